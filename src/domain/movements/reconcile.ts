/**
 * Reconciliation: what a crash, an abandoned OTP or a lost reply left unfinished is settled
 * by asking Verify (GETs only, never a re-send). Run at start-up and periodically.
 */
import type { Movement } from '../../adapters/store/store.js';
import type { DomainContext } from '../context.js';
import { applyTransfer, finish, findSessionTransfer, leaseMs, newLeaseOwner, openSince, update } from './drive.js';
import { endAwaiting } from './otp.js';
import { isAwaitingOtp, isInFlight } from './status.js';

export interface ReconcileReport {
  examined: number;
  /** transfers Verify made that are now recorded with their outcome */
  adopted: number;
  /** stopped before any transfer could exist: the platform's retry resumes them */
  interrupted: number;
  /** waited for a one-time password past the window */
  expired: number;
  /** Verify has no transfer yet: left for the platform's retry (same Verify session) */
  unresolved: number;
  /** past the retry window with nothing at Verify: ended (interrupted → cancelled, transfer_requested → failed) */
  abandoned: number;
  /** ended by us, then found completed at Verify: the ledger now says processed */
  corrected: number;
  /** held by a live holder, or Verify did not answer */
  skipped: number;
}

/**
 * Ends what a crash left between two steps, asking Verify (GETs only, never a re-send):
 * a transfer Verify made is adopted with its status; a movement stopped before any
 * transfer could exist is marked interrupted so the platform's retry can resume it; one
 * whose transfer Verify does not know (yet) stays for the retry, under its own session.
 * Each movement is handled under its lease, so instances (and overlapping runs) never
 * work on the same one at once.
 */
export async function reconcile(ctx: DomainContext): Promise<ReconcileReport> {
  const report: ReconcileReport = { examined: 0, adopted: 0, interrupted: 0, expired: 0, unresolved: 0, abandoned: 0, corrected: 0, skipped: 0 };
  const owner = newLeaseOwner(ctx);
  const claim = (id: string) => {
    const now = ctx.now();
    return ctx.store.claimMovement(id, owner, now, now + leaseMs(ctx));
  };
  const handle = async (m: Movement, work: (current: Movement) => Promise<void>) => {
    report.examined += 1;
    if (!(await claim(m.id))) {
      report.skipped += 1;
      return;
    }
    try {
      await work((await ctx.store.getMovement(m.id)) ?? m);
    } catch (error) {
      report.skipped += 1;
      ctx.log.warn({ movement: m.id, err: (error as Error).name }, 'reconciliation deferred: Verify did not answer');
    } finally {
      await ctx.store.releaseMovement(m.id, owner).catch(() => {});
    }
  };

  for (const m of await ctx.store.listInFlightMovements()) {
    await handle(m, async (current) => {
      if (!isInFlight(current.status)) return; // finished meanwhile
      if (current.status === 'transfer_requested' && current.verify_session_id) {
        const transfer = current.verify_transfer_id
          ? await ctx.verify.getTransfer(current.verify_transfer_id)
          : await findSessionTransfer(ctx, current.verify_session_id);
        if (transfer) {
          await applyTransfer(ctx, current, transfer);
          report.adopted += 1;
        } else if (current.created_at < openSince(ctx)) {
          await finish(ctx, current, 'failed', { failure_reason: 'the bank never received the transfer' });
          report.abandoned += 1;
        } else {
          // Never a new session here: the first createTransfer may still land under this one.
          report.unresolved += 1;
        }
        return;
      }
      await update(ctx, current, { status: 'interrupted' });
      report.interrupted += 1;
    });
  }

  const now = ctx.now();
  for (const m of await ctx.store.listStaleAwaitingMovements(now - ctx.config.otpWindowSeconds * 1000)) {
    await handle(m, async (current) => {
      if (!isAwaitingOtp(current.status)) return;
      // The OTP may have reached Verify with its reply lost: the transfer then moved money.
      const outcome = await endAwaiting(ctx, current, 'one-time password never given');
      if (outcome === 'settled') report.adopted += 1;
      else report.expired += 1;
    });
  }

  // Cancelled or failed while Verify had not said its last word on the transfer: ask again
  // until it has, and let the ledger follow Verify (money it moved is never left unrecorded).
  for (const m of await ctx.store.listUnsettledEndings(now - ctx.config.reconcileLookbackDays * 86_400_000)) {
    await handle(m, async (current) => {
      if (!current.verify_transfer_id || (current.status !== 'cancelled' && current.status !== 'failed')) return;
      const transfer = await ctx.verify.getTransfer(current.verify_transfer_id);
      if (transfer.status === current.verify_status) return;
      if (transfer.status === 'succeeded') {
        ctx.log.warn({ movement: current.id, was: current.status }, 'Verify completed a transfer the ledger had ended: the ledger follows Verify');
        await update(ctx, current, { status: 'processed', verify_status: transfer.status, verify_reference_id: transfer.reference_id ?? current.verify_reference_id, failure_reason: null, completed_at: ctx.now() });
        await ctx.store.invalidateAccounts(current.user_id);
        report.corrected += 1;
        return;
      }
      await update(ctx, current, { verify_status: transfer.status });
    });
  }

  for (const m of await ctx.store.listInterruptedMovements(openSince(ctx))) {
    await handle(m, async (current) => {
      if (current.status !== 'interrupted') return;
      await finish(ctx, current, 'cancelled', { failure_reason: 'interrupted and never retried' });
      report.abandoned += 1;
    });
  }
  return report;
}
