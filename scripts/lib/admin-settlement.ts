/**
 * `npm run admin -- settlement <command>`: the operator API's settlement calls for operators
 * who work in a shell, through the same domain service (same checks, compare-and-set updates
 * and audit rows). The actor is `admin-cli:<os user>` with role settler, so the two-person
 * rule holds between two people at the shell as between two API keys.
 *
 *   settlement list      [--state due|batched|paid|returned] [--currency AED] [--batch bt-…]
 *   settlement batch     [--currency AED] [--ids ob-…,ob-…]
 *   settlement csv       --batch bt-…            (to stdout)
 *   settlement pain001   --batch bt-…            (to stdout; needs OPERATOR_DEBTOR_NAME/IBAN)
 *   settlement paid      --batch bt-… --reference FT…
 *   settlement returned  --obligation ob-… --reason "AC04: account closed"
 *   settlement reconcile [--date YYYY-MM-DD]     (default yesterday, UTC; needs VERIFY_BASE_URL)
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { Config } from '../../src/config.js';
import { Store } from '../../src/adapters/store/store.js';
import { createVerifyClient, type VerifyClient } from '../../src/adapters/verify/client.js';
import type { DomainContext, Logger } from '../../src/domain/context.js';
import type { Keys } from '../../src/domain/crypto.js';
import { loadDirectory } from '../../src/domain/directory.js';
import { DEFAULT_FX_RATES_FILE, FxRates } from '../../src/domain/settlement/fx-rates.js';
import { SettlementError } from '../../src/domain/settlement/errors.js';
import { previousUtcDay, SettlementService, type Actor } from '../../src/domain/settlement/service.js';

export const SETTLEMENT_USAGE = `  settlement list      [--state due|batched|paid|returned] [--currency C] [--batch ID]
  settlement batch     [--currency C] [--ids ob-…,ob-…]
  settlement csv       --batch ID
  settlement pain001   --batch ID
  settlement paid      --batch ID --reference BANK_REF
  settlement returned  --obligation ID --reason TEXT
  settlement reconcile [--date YYYY-MM-DD]`;

const stderrLogger: Logger = {
  info() {},
  debug() {},
  warn: (obj, msg) => process.stderr.write(`warn: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => process.stderr.write(`error: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
};

export async function settlementCommand(args: string[], config: Config, keys: Keys): Promise<number> {
  const [command, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      state: { type: 'string' },
      currency: { type: 'string' },
      batch: { type: 'string' },
      ids: { type: 'string' },
      reference: { type: 'string' },
      obligation: { type: 'string' },
      reason: { type: 'string' },
      date: { type: 'string' },
    },
  });
  const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const json = (value: unknown) => out(JSON.stringify(value, null, 2));
  const need = (value: string | undefined, flag: string): string => {
    if (!value) throw new SettlementError('invalid_request', `--${flag} is required`, flag);
    return value;
  };
  // Reconciliation asks Verify: only the real one (the embedded sandbox of another process knows nothing of ours).
  let verify: VerifyClient | undefined;
  if (command === 'reconcile') {
    if (!config.verifyBaseUrl) throw new SettlementError('invalid_request', 'reconcile needs VERIFY_BASE_URL (and its keys): the connector\'s embedded sandbox lives in its own process; use POST /operator/v1/reconciliations there', 'VERIFY_BASE_URL');
    verify = createVerifyClient({ baseUrl: config.verifyBaseUrl, secretKey: config.verifySecretKey ?? '', publicKey: config.verifyPublicKey ?? '', bankId: config.verifyBankId, timeoutMs: config.verifyTimeoutMs, retries: config.verifyRetries });
  }
  const store = await Store.open(config.databaseUrl);
  try {
    const ctx: DomainContext = {
      config,
      store,
      verify: verify ?? (undefined as unknown as VerifyClient),
      keys,
      directory: loadDirectory(config.directoryFile),
      fx: FxRates.fromFile(config.fxRatesFile ?? DEFAULT_FX_RATES_FILE),
      log: stderrLogger,
      instanceId: `admin-cli-${process.pid}`,
      now: Date.now,
    };
    const service = new SettlementService(ctx, { fourEyes: config.operator.fourEyes, debtor: config.operator.debtor });
    const actor: Actor = { name: `admin-cli:${userInfo().username}`, role: 'settler' };
    switch (command) {
      case 'list': {
        const page = await service.listObligations({
          ...(values.state ? { state: values.state as 'due' } : {}),
          ...(values.currency ? { currency: values.currency } : {}),
          ...(values.batch ? { batch_id: values.batch } : {}),
          limit: 500,
        });
        for (const o of page.items) out([o.id, o.state, o.currency, String(o.amount_minor), o.destination.kind, o.destination.iban ?? '-', o.batch_id ?? '-', o.movement_id].join('\t'));
        return 0;
      }
      case 'batch':
        json(await service.createBatch(actor, { ...(values.currency ? { currency: values.currency } : {}), ...(values.ids ? { obligation_ids: values.ids.split(',').map((s) => s.trim()) } : {}) }));
        return 0;
      case 'csv':
        process.stdout.write(await service.batchCsv(need(values.batch, 'batch')));
        return 0;
      case 'pain001':
        process.stdout.write(await service.batchPain001(need(values.batch, 'batch')));
        return 0;
      case 'paid':
        json(await service.markBatchPaid(actor, need(values.batch, 'batch'), need(values.reference, 'reference')));
        return 0;
      case 'returned':
        json(await service.markObligationReturned(actor, need(values.obligation, 'obligation'), need(values.reason, 'reason')));
        return 0;
      case 'reconcile': {
        const report = await service.reconcileDay(actor, values.date ?? previousUtcDay(Date.now()));
        json({ date: report.date, counts: report.counts, flagged: report.items.filter((i) => i.kind !== 'matched' && !i.corrected) });
        return report.counts.unexplained > 0 ? 3 : 0;
      }
      default:
        process.stderr.write(`${command ? `unknown settlement command ${command}` : 'a settlement command is required'}\n${SETTLEMENT_USAGE}\n`);
        return 2;
    }
  } catch (error) {
    if (error instanceof SettlementError) {
      process.stderr.write(`settlement: ${error.kind}: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await verify?.close();
    await store.close();
  }
}
