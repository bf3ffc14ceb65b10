/**
 * Crash safety with real processes: the connector (src/server.ts on a SQLite file) is
 * SIGKILLed at each step of a transfer while the Verify sandbox runs on in its own
 * process, then restarted on the same file. No test hooks in production code: the step
 * is chosen by making Verify slow at the call that follows it, and the process is killed
 * while it waits.
 *
 * After the restart, reconciliation (at start-up and every RECONCILE_INTERVAL_SECONDS,
 * once the dead instance's lease of 4 × VERIFY_TIMEOUT_MS + 2 s has run out) must end
 * every movement in the right state, and the platform's retry (same body, same token)
 * must answer the one transfer, with Verify's balance moved exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fault } from '../../src/sandbox/faults.js';
import type { OperationId } from '../../src/sandbox/types.js';
import { connectorEnv, startConnector, startSandbox, stopAll, type ConnectorProcess, type SandboxProcess } from '../helpers/processes.js';
import { Figures, until } from './support.js';

const T = 300; // VERIFY_TIMEOUT_MS: small, so the dead instance's lease runs out fast
const LEASE_MS = 4 * T + 2000;
const RECONCILE_EVERY_S = 1;
const HOLD_MS = 20_000; // Verify's latency at the step we kill at: far longer than the kill takes

const figures = new Figures('crash', { VERIFY_TIMEOUT_MS: T, leaseMs: LEASE_MS, RECONCILE_INTERVAL_SECONDS: RECONCILE_EVERY_S, store: 'SQLite file' });
const dir = mkdtempSync(join(tmpdir(), 'reliability-crash-'));
const dbFile = join(dir, 'connector.db');
const env = (sandboxUrl: string, timeoutMs = T) =>
  connectorEnv(sandboxUrl, `sqlite:${dbFile}`, { VERIFY_TIMEOUT_MS: String(timeoutMs), VERIFY_BUDGET_MS: '60000', RECONCILE_INTERVAL_SECONDS: String(RECONCILE_EVERY_S), CIRCUIT_FAILURE_THRESHOLD: '100000' });

let sandbox: SandboxProcess;
let conn: ConnectorProcess;
let connTimeoutMs = T;
let who: { userId: string; token: string; aed: string; usd: string };

beforeAll(async () => {
  sandbox = await startSandbox();
  conn = await startConnector(env(sandbox.url));
  const { userId, token } = await conn.signIn('test');
  const accounts = (await conn.call('accounts', { user_id: userId }, { token })).body as { account_id: string; currency_code: string }[];
  who = {
    userId,
    token,
    aed: accounts.find((a) => a.currency_code === 'AED')!.account_id,
    usd: accounts.find((a) => a.currency_code === 'USD')!.account_id,
  };
}, 60_000);

afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
  figures.write();
});

interface Row {
  id: string;
  status: string;
  verify_session_id: string | null;
  verify_transfer_id: string | null;
  lease_owner: string | null;
}

/** The movements of an amount, read straight from the file (read-only, as an operator would). */
function rowsOf(minor: number): Row[] {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('select id, status, verify_session_id, verify_transfer_id, lease_owner from movements where amount_minor = ? and currency = ?').all(minor, 'AED') as Row[];
  } finally {
    db.close();
  }
}

interface KillPoint {
  name: string;
  faults: [OperationId, Fault][];
  /** The Verify operation whose (slow) call shows the process reached the step. */
  waitsAt?: OperationId;
  atKill: string;
  /** What reconciliation leaves it in; absent: the retry comes before any reconciliation. */
  reconciled?: string;
  /** VERIFY_TIMEOUT_MS of the process killed here (its lease is 4 × it + 2 s). */
  timeoutMs?: number;
}

const POINTS: KillPoint[] = [
  { name: 'after the movement is recorded', faults: [['createSession', { latencyMs: HOLD_MS }]], waitsAt: 'createSession', atKill: 'recorded', reconciled: 'interrupted' },
  { name: 'after the Verify session was created', faults: [['loginSession', { latencyMs: HOLD_MS }]], waitsAt: 'loginSession', atKill: 'session_created', reconciled: 'interrupted' },
  {
    name: 'after Verify made the transfer, before the connector stored it',
    // Verify does the transfer and the reply is lost; the connector then looks for it, slowly
    faults: [
      ['createTransfer', { drop: true, afterHandler: true }],
      ['listSessionTransfers', { latencyMs: HOLD_MS }],
    ],
    waitsAt: 'listSessionTransfers',
    atKill: 'transfer_requested',
    reconciled: 'processed',
  },
  { name: 'after the transfer was stored, before the answer', faults: [], atKill: 'processed', reconciled: 'processed' },
  {
    name: 'after the Verify session was created; retried at once on restart, before reconciliation',
    faults: [['loginSession', { latencyMs: HOLD_MS }]],
    waitsAt: 'loginSession',
    atKill: 'session_created',
    // a lease (10 s) longer than a restart, so the retry meets the dead instance's lease
    timeoutMs: 2000,
  },
];

describe('SIGKILL at each step of a transfer, then restart', () => {
  let amount = 0;
  for (const point of POINTS) {
    it(point.name, async () => {
      amount += 1;
      const minor = 10 + amount; // AED fils, one amount per kill point
      const timeoutMs = point.timeoutMs ?? T;
      if (timeoutMs !== connTimeoutMs) {
        await conn.proc.kill();
        conn = await startConnector(env(sandbox.url, timeoutMs));
        connTimeoutMs = timeoutMs;
      }
      const body = { user_id: who.userId, source_account_id: who.aed, dest_account_id: who.usd, amount: minor / 100 };
      const before = await sandbox.balances('test');
      const statsBefore = await sandbox.stats();
      for (const [op, fault] of point.faults) await sandbox.setFault(op, fault);

      let answered: number | undefined;
      const inFlight = conn.call('transfer', body, { token: who.token }).then(
        (res) => void (answered = res.status),
        () => undefined, // the connection dies with the process
      );
      if (point.waitsAt) {
        const op = point.waitsAt;
        await until(`a call to ${op}`, async () => ((await sandbox.stats()).calls[op] > statsBefore.calls[op] ? true : undefined), 15_000, 20);
      } else {
        // no Verify call follows: kill the moment the outcome is on disk
        await until('the movement processed on disk', () => (rowsOf(minor)[0]?.status === 'processed' ? true : undefined), 15_000, 2);
      }
      const killedAt = Date.now();
      await conn.proc.kill();
      await inFlight;
      await sandbox.clearFaults();

      const [atKill, ...others] = rowsOf(minor);
      expect(others).toHaveLength(0);
      expect(atKill!.status).toBe(point.atKill);
      const debitedAtKill = before['AED']! - (await sandbox.balances('test'))['AED']!;

      conn = await startConnector(env(sandbox.url, timeoutMs));
      const restartMs = Date.now() - killedAt;
      const statusAtRestart = rowsOf(minor)[0]?.status;
      let reconciledAfterMs: number | undefined;
      const byStartUp = point.reconciled !== undefined && point.atKill !== point.reconciled && rowsOf(minor)[0]?.status === point.reconciled;
      if (point.reconciled) {
        await until(`reconciliation to leave it ${point.reconciled}`, () => {
          const [row] = rowsOf(minor);
          // a row final at the kill keeps the dead holder's lease: harmless, nothing claims a final movement
          const released = point.atKill === point.reconciled || row?.lease_owner === null;
          return row?.status === point.reconciled && released ? true : undefined;
        }, LEASE_MS + 15_000, 50);
        reconciledAfterMs = Date.now() - killedAt;
        // the dead instance's lease is respected: nothing before it runs out (unless already final)
        if (point.atKill !== point.reconciled) {
          expect(reconciledAfterMs).toBeGreaterThanOrEqual(LEASE_MS - 500);
          expect(reconciledAfterMs).toBeLessThanOrEqual(LEASE_MS + RECONCILE_EVERY_S * 1000 + restartMs + 2000);
        }
      }

      // the platform's retry: same body, same token, on the restarted process
      const retry = await conn.call('transfer', body, { token: who.token });
      expect(retry.status, JSON.stringify(retry.body)).toBe(200);
      expect(retry.body).toMatchObject({ transfer_id: atKill!.id, status: 'processed' });
      if (!point.reconciled) expect(retry.elapsedMs, 'waits at most lease + 1 s').toBeLessThanOrEqual(4 * timeoutMs + 2000 + 1000 + 1000);
      const again = await conn.call('transfer', body, { token: who.token });
      expect(again.body).toMatchObject({ transfer_id: atKill!.id, status: 'processed', reference_number: retry.body.reference_number });

      const rows = rowsOf(minor);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.status).toBe('processed');
      const debited = before['AED']! - (await sandbox.balances('test'))['AED']!;
      expect(debited, 'money moved exactly once').toBe(minor);
      if (point.atKill === 'transfer_requested') {
        // Verify's transfer was adopted, not made again
        expect(rows[0]!.verify_session_id).toBe(atKill!.verify_session_id);
        expect(debitedAtKill).toBe(minor);
      }

      figures.add({
        name: `SIGKILL ${point.name}`,
        kind: 'kill',
        call: '/transfer',
        status: answered ?? 'no answer',
        outcome:
          `on disk at kill: ${point.atKill}` +
          (point.reconciled
            ? point.atKill === point.reconciled
              ? `; restarted in ${restartMs} ms, nothing to reconcile`
              : `; reconciled to ${point.reconciled} ${reconciledAfterMs} ms after the kill, by the ${byStartUp ? 'start-up' : 'periodic'} run (restart took ${restartMs} ms)` : statusAtRestart === point.atKill
              ? `; restarted in ${restartMs} ms; the retry, sent at once, waited out the dead instance's lease (${4 * timeoutMs + 2000} ms from its last step) and resumed it: answered in ${retry.elapsedMs} ms`
              : `; restarted in ${restartMs} ms, after the lease: the start-up reconciliation had marked it ${statusAtRestart}; the retry resumed it in ${retry.elapsedMs} ms`) +
          `; retry 200 processed, same transfer_id; debited once (${minor} fils)`,
        ...(point.reconciled ? { elapsedMs: reconciledAfterMs } : { elapsedMs: retry.elapsedMs }),
      });
    }, 60_000);
  }
});
