/**
 * Benchmark server (b, c and the leak check): the real connector in its own process, so the
 * RSS sampled is the server's and autocannon does not share its event loop.
 *
 * - Temp SQLite store, embedded Verify sandbox, production log level (info) and destination
 *   (LineWriter) writing to BENCH_LOG_FILE (default /dev/null): the logging cost is measured,
 *   not switched off.
 * - Rate limits raised (RATE_LIMIT_PER_TOKEN / RATE_LIMIT_PER_ADDRESS) unless given: one
 *   token sending thousands of requests a second is the benchmark, not an attack.
 * - BENCH_LEDGER_ROWS=N seeds N processed movements for the user `test` through the Store
 *   (rows inserted directly, not N real transfers through Verify).
 *
 * - BENCH_CONVERSATIONS=1 (the conversation bench): each response carries `x-bench-verify-ms`
 *   (wall time of this request's Verify attempts, summed from the onVerifyCall hook, keyed by
 *   the request's scope) and `x-bench-verify-calls`, and a side server on `statsPort` answers
 *   GET /stats: event-loop delay (perf_hooks.monitorEventLoopDelay) and the Verify pool's
 *   stats; `?reset=1` starts a new window. Production has none of this.
 *
 * Prints one JSON line `{"port":N}` on stdout when ready (and a heap line on SIGUSR2). Tokens never leave this process:
 * the load generator signs in over HTTP itself. SIGTERM stops it cleanly (so --cpu-prof
 * can write its profile).
 */
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loggerOptions } from '../../../src/http/logging/redaction.js';
import { loadConfig } from '../../../src/config.js';
import { LineWriter } from '../../../src/http/logging/destination.js';
import { startConnector } from '../../../src/runtime.js';
import { newId } from '../../../src/domain/crypto.js';
import type { NewMovement } from '../../../src/adapters/store/schema.js';
import type { StartOptions } from '../../../src/runtime.js';
import { requestScope } from '../../../src/observability/request-scope.js';

const env = process.env;
const dir = mkdtempSync(join(tmpdir(), 'bench-connector-'));
const config = loadConfig({
  LOG_LEVEL: 'info',
  RATE_LIMIT_PER_TOKEN: '1000000000',
  RATE_LIMIT_PER_ADDRESS: '1000000000',
  ...env,
  DATABASE_URL: env.BENCH_DATABASE_URL ?? `sqlite:${join(dir, 'connector.db')}`,
  PORT: '0',
  HOST: '127.0.0.1',
});
const logFile = env.BENCH_LOG_FILE ?? '/dev/null';
// The production destination (LineWriter, see src/http/logging/destination.ts) on the log file;
// BENCH_LOG_DESTINATION=pino for pino's default one (sonic-boom), to compare.
const logger =
  env.BENCH_LOG_DESTINATION === 'pino'
    ? { ...(loggerOptions(config) as object), stream: undefined, file: logFile }
    : { ...(loggerOptions(config) as object), stream: new LineWriter(openSync(logFile, 'a')) };
const conversations = env.BENCH_CONVERSATIONS === '1';
const verifyTime = new WeakMap<object, { ms: number; calls: number }>();
const instrumentation: StartOptions = conversations
  ? {
      // runs inside the call's async context: the request's scope object identifies it
      onVerifyCall(event) {
        const scope = requestScope.getStore();
        if (!scope) return;
        const entry = verifyTime.get(scope);
        if (entry) {
          entry.ms += event.durationMs;
          entry.calls += event.outcome === 'overloaded' ? 0 : 1;
        } else verifyTime.set(scope, { ms: event.durationMs, calls: event.outcome === 'overloaded' ? 0 : 1 });
      },
      configure(app) {
        app.addHook('onSend', (_request, reply, payload, done) => {
          const scope = requestScope.getStore();
          const entry = scope ? verifyTime.get(scope) : undefined;
          reply.header('x-bench-verify-ms', String(entry?.ms ?? 0));
          reply.header('x-bench-verify-calls', String(entry?.calls ?? 0));
          reply.header('x-bench-elapsed-ms', String(reply.elapsedTime));
          done(null, payload);
        });
      },
    }
  : {};
const connector = await startConnector(config, {
  logger: logger as never,
  reconcileEveryMs: 0,
  ...instrumentation,
});
let statsPort: number | undefined;
if (conversations) {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const pool = () => (connector.metrics.registry.getSingleMetric('connector_verify_queue_depth') ? connector.metrics.registry.getMetricsAsJSON() : undefined);
  const stats = createServer((req, res) => {
    void (async () => {
      const body = {
        loopDelayP99Ms: loop.count > 0 ? Math.round((loop.percentile(99) / 1e6) * 10) / 10 : 0,
        loopDelayMaxMs: loop.count > 0 ? Math.round((loop.max / 1e6) * 10) / 10 : 0,
        verifyPool: Object.fromEntries(
          ((await pool()) ?? [])
            .filter((m) => ['connector_verify_queue_depth', 'connector_verify_in_flight', 'connector_verify_pool_size', 'connector_verify_shed_total'].includes(m.name))
            .map((m) => [m.name, m.values[0]?.value]),
        ),
        circuit: connector.circuit.state,
      };
      if (req.url?.includes('reset=1')) loop.reset();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    })();
  });
  await new Promise<void>((ok) => stats.listen(0, '127.0.0.1', ok));
  stats.unref();
  statsPort = (stats.address() as { port: number }).port;
}

const ledgerRows = Number(env.BENCH_LEDGER_ROWS ?? 0);
if (ledgerRows > 0) await seedLedger(ledgerRows);
// The seeding's garbage (thousands of row objects and compiled inserts) is the fixture's, not
// the server's: collect it before serving (run.ts starts servers with --expose-gc), or V8
// sizes the heap after it and RSS under load starts ~20 MB higher.
(globalThis as { gc?: () => void }).gc?.();

// BENCH_ALLOC_PROFILE=FILE: sampled allocations (collected ones included) from here to SIGTERM,
// to find what each request allocates; open FILE in Chrome DevTools or summarise it.
let stopAllocProfile: (() => Promise<void>) | undefined;
if (env.BENCH_ALLOC_PROFILE) {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
  stopAllocProfile = async () => {
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: unknown };
    writeFileSync(env.BENCH_ALLOC_PROFILE!, JSON.stringify(profile));
  };
}

const address = await connector.app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(address).port), ...(statsPort ? { statsPort } : {}) })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  Promise.resolve(stopAllocProfile?.())
    .then(() => connector.stop())
    .catch(() => {})
    .finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// The leak check's probe (node --expose-gc): a full collection, then the heap still in use,
// which grows only if something is retained (RSS alone also follows V8's heap sizing).
process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  process.stdout.write(`${JSON.stringify({ heapUsedAfterGcMb: Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 10) / 10, gc: Boolean(gc) })}\n`);
});

/**
 * The ledger of user `test`: a sign-in in this process (to learn the stable user and
 * account ids, as the platform would see them), then N processed movements spread over
 * the last 90 days, transfers between own accounts and payments to directory payees alike.
 */
async function seedLedger(count: number): Promise<void> {
  const call = (op: string, body: unknown, token?: string) =>
    connector.app.inject({
      method: 'POST',
      url: `${config.basePath}/${op}`,
      headers: { 'content-type': 'application/json', secret: config.kasistoSecrets[0]!, ...(token ? { token } : {}) },
      payload: JSON.stringify(body),
    });
  const signIn = await call('token', { username: 'test', password: 'test_pass' });
  if (signIn.statusCode !== 200) throw new Error(`seed sign-in answered ${signIn.statusCode}`);
  const { user_id: userId, token } = signIn.json() as { user_id: string; token: string };
  const accountsRes = await call('accounts', { user_id: userId }, token);
  const accounts = accountsRes.json() as Array<{ account_id: string; currency_code: string; account_number: string }>;
  const grant = await connector.ctx.store.db.selectFrom('grants').select(['id', 'accounts_json']).where('user_id', '=', userId).executeTakeFirstOrThrow();
  const ibans = new Map((JSON.parse(grant.accounts_json ?? '[]') as Array<{ accountId: string; iban: string }>).map((a) => [a.accountId, a.iban]));
  const payees = connector.ctx.directory.payees ?? [];
  const now = Date.now();
  const span = 90 * 86_400_000;
  const rows: NewMovement[] = [];
  for (let i = 0; i < count; i++) {
    const source = accounts[i % accounts.length]!;
    const created = now - Math.floor((span * (count - i)) / count);
    const toAccount = i % 3 !== 2 || payees.length === 0;
    const dest = toAccount ? accounts[(i + 1) % accounts.length]! : undefined;
    const payee = toAccount ? undefined : payees[i % payees.length]!;
    const amount = 100 + ((i * 37) % 5000);
    rows.push({
      id: newId('mv'),
      user_id: userId,
      grant_id: grant.id,
      kind: toAccount ? 'transfer' : 'payment',
      idempotency_key: null,
      fingerprint: `bench-${i}`,
      source_account_id: source.account_id,
      source_iban: ibans.get(source.account_id) ?? `AE000000000000000000${i}`,
      dest_type: toAccount ? 'account' : 'payee',
      dest_id: dest ? dest.account_id : payee!.payee_id,
      dest_name: dest ? `Account ${dest.account_number.slice(-4)}` : payee!.name,
      dest_iban: dest ? (ibans.get(dest.account_id) ?? null) : null,
      amount_minor: amount,
      currency: source.currency_code,
      description: dest ? `Transfer to Account ${dest.account_number.slice(-4)}` : `Payment to ${payee!.name}`,
      requested_date: null,
      category: dest ? 'transfers' : (payee!.category ?? 'payments'),
      status: 'processed',
      verify_session_id: `ses_${String(i).padStart(12, '0')}`,
      verify_transfer_id: `tr_${String(i).padStart(12, '0')}`,
      verify_reference_id: `REF${String(i).padStart(9, '0')}`,
      pending_json: null,
      otp_attempts: 0,
      otp_started_at: null,
      failure_reason: null,
      lease_owner: null,
      lease_until: null,
      created_at: created,
      updated_at: created + 1500,
      completed_at: created + 1500,
    });
  }
  await connector.ctx.store.db.transaction().execute(async (trx) => {
    // SQLite caps bound parameters per statement: 30 columns × 25 rows stays well under it
    for (let i = 0; i < rows.length; i += 25) await trx.insertInto('movements').values(rows.slice(i, i + 25)).execute();
  });
}
