/**
 * Assembles a running connector from a Config: development secrets when none are given,
 * the store, the embedded Verify sandbox when VERIFY_BASE_URL is unset, the Verify client
 * behind a circuit breaker, reconciliation at start-up and periodically, and a clean stop.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { build } from './http/app.js';
import { parseMasterKey, type Config } from './config.js';
import { Store } from './adapters/store/store.js';
import { createVerifyClient, type VerifyCallEvent, type VerifyLogger } from './adapters/verify/client.js';
import { withCircuitBreaker, type CircuitBreaker } from './adapters/verify/circuit.js';
import { deriveKeys, newId, type Keys } from './domain/crypto.js';
import type { DomainContext, Logger } from './domain/context.js';
import { loadDirectory } from './domain/directory.js';
import { reconcile } from './domain/movements/reconcile.js';
import type { Sandbox } from './sandbox/app.js';
import { Metrics } from './observability/metrics.js';
import { createTracing, type Tracing, type TracingOptions } from './observability/tracing.js';
import { stuckMovementsCounter } from './observability/stuck-movements.js';
import { DEFAULT_FX_RATES_FILE, FxRates } from './domain/settlement/fx-rates.js';
import { previousUtcDay, SettlementService } from './domain/settlement/service.js';
import { buildOperatorApp } from './operator/app.js';

export interface Connector {
  app: FastifyInstance;
  /** the configuration in use (development secrets filled in) */
  config: Config;
  ctx: DomainContext;
  circuit: CircuitBreaker;
  /** This instance's Prometheus metrics (served at GET /metrics). */
  metrics: Metrics;
  /** The Kasisto secret in use when none was configured (development only). */
  devSecret?: string;
  /** The embedded sandbox's base URL, when it runs. */
  sandboxUrl?: string;
  /** The embedded sandbox (fault injection and call counts for tests and benchmarks). */
  sandbox?: Sandbox;
  /** Obligations, batches, payout files, reconciliation: what the operator API and admin CLI call. */
  settlement: SettlementService;
  /** The operator API's app, when OPERATOR_PORT is set, and where it listens. */
  operatorApp?: FastifyInstance;
  operatorUrl?: string;
  /** Re-reads FX_RATES_FILE (SIGHUP); a bad file leaves the previous rates in force and throws. */
  reloadFxRates(actor?: string): Promise<number>;
  /** The daily reconciliation of the previous UTC day, if no instance has run it yet (lease). */
  runDailyReconciliation(): Promise<'ran' | 'taken'>;
  /** OpenTelemetry tracing, when on (observability/tracing.ts). */
  tracing?: Tracing;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Observes every Verify HTTP attempt (metrics). */
  onVerifyCall?: (event: VerifyCallEvent) => void;
  logger?: Parameters<typeof build>[0]['logger'];
  https?: { key: Buffer; cert: Buffer } | null;
  /** Called with the app before it is ready, to add hooks (benchmarks' instrumentation). */
  configure?: (app: FastifyInstance) => void;
  /** Background reconciliation period (default RECONCILE_INTERVAL_SECONDS); 0 disables it (tests drive it themselves). */
  reconcileEveryMs?: number;
  /** How often to check whether yesterday's reconciliation report is due (default 10 minutes, first check after 1 minute); 0 disables it. */
  dailyReconcileCheckMs?: number;
  /** Tracing's span processor or exporter (tests); without it, the OTEL_* variables decide (off by default). */
  tracing?: TracingOptions;
}

/** The folder for development state: beside the SQLite file, or ./data. */
function dataDir(config: Config): string {
  return config.databaseUrl.startsWith('sqlite:') && config.databaseUrl !== 'sqlite::memory:' ? dirname(config.databaseUrl.slice(7)) : 'data';
}

/** Where the embedded sandbox keeps its state: beside a SQLite database file; none otherwise (memory only). */
export function sandboxStateFile(config: Pick<Config, 'databaseUrl'>): string | undefined {
  return config.databaseUrl.startsWith('sqlite:') && config.databaseUrl !== 'sqlite::memory:' ? join(dataDir(config as Config), 'sandbox-state.json') : undefined;
}

/**
 * Development only: a Kasisto secret and credentials key made once and kept in
 * data/dev-secrets.json (mode 600), so ids and tokens survive a restart.
 */
function developmentSecrets(config: Config): { kasistoSecret: string; credentialsKey: string } {
  const file = join(dataDir(config), 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const secrets = { kasistoSecret: `dev_${randomBytes(18).toString('base64url')}`, credentialsKey: randomBytes(32).toString('hex') };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return secrets;
}

/** The configuration with development secrets filled in where none were given, and the keys. */
export function resolveSecrets(config: Config): { config: Config; keys: Keys; devSecret?: string } {
  let devSecret: string | undefined;
  let credentialsKey = config.credentialsKey;
  if (config.kasistoSecrets.length === 0 || !credentialsKey) {
    const dev = developmentSecrets(config);
    if (config.kasistoSecrets.length === 0) {
      devSecret = dev.kasistoSecret;
      config = { ...config, kasistoSecrets: [dev.kasistoSecret] };
    }
    credentialsKey ??= dev.credentialsKey;
  }
  return { config, keys: deriveKeys(parseMasterKey(credentialsKey)), ...(devSecret ? { devSecret } : {}) };
}

export async function startConnector(given: Config, options: StartOptions = {}): Promise<Connector> {
  const { config, keys, devSecret } = resolveSecrets(given);
  const directory = loadDirectory(config.directoryFile);
  const store = await Store.open(config.databaseUrl, { tokenCacheMs: config.tokenCacheMs, poolSize: config.databasePoolSize });

  let sandbox: Sandbox | undefined;
  let sandboxUrl: string | undefined;
  let verifyTarget = { baseUrl: config.verifyBaseUrl ?? '', secretKey: config.verifySecretKey ?? '', publicKey: config.verifyPublicKey ?? '' };
  if (!config.verifyBaseUrl) {
    // loaded only when needed: a deployment with a real Verify never loads the sandbox
    const { buildSandbox } = await import('./sandbox/app.js');
    // beside a development SQLite file, the bank keeps its state too: a restart keeps balances
    // and reference numbers consistent with the ledger (npm run sandbox:reset starts over)
    const stateFile = sandboxStateFile(config);
    sandbox = await buildSandbox({ logger: false, ...(stateFile ? { stateFile } : {}) });
    sandboxUrl = await sandbox.app.listen({ host: '127.0.0.1', port: 0 });
    verifyTarget = { baseUrl: sandboxUrl, secretKey: 'sk_test_embedded_sandbox', publicKey: 'pk_test_embedded_sandbox' };
  }

  const metrics = new Metrics();
  metrics.watchStuckMovements(stuckMovementsCounter(store));
  metrics.watchVerifyPool(() => baseClient.pool);
  // Verify call failures are logged through ctx.log, so they carry the request_id (ctx is set below, before any call).
  const verifyLog: VerifyLogger = {
    debug: (obj, msg) => ctx.log.debug(obj, msg),
    info: (obj, msg) => ctx.log.info(obj, msg),
    warn: (obj, msg) => ctx.log.warn(obj, msg),
    error: (obj, msg) => ctx.log.error(obj, msg),
  };
  const baseClient = createVerifyClient({
    ...verifyTarget,
    bankId: config.verifyBankId,
    timeoutMs: config.verifyTimeoutMs,
    retries: config.verifyRetries,
    connections: config.verifyPoolConnections,
    perCustomerCalls: config.verifyPerCustomerCalls,
    logger: verifyLog,
    onCall: (event) => {
      metrics.observeVerifyCall(event);
      options.onVerifyCall?.(event);
    },
    onDrift: (event) => metrics.observeVerifyDrift(event),
  });
  const verify = withCircuitBreaker(baseClient, {
    failureThreshold: config.circuitFailureThreshold,
    openMs: config.circuitOpenSeconds * 1000,
    // a timeout counts against Verify when it had at least a second (or its whole time limit)
    fairTimeoutMs: Math.min(1000, config.verifyTimeoutMs),
  });

  // checked at start-up: a bad rates file stops the process here, with the entry named
  const fx = FxRates.fromFile(config.fxRatesFile ?? DEFAULT_FX_RATES_FILE);
  const ctx: DomainContext = {
    config,
    store,
    verify,
    keys,
    directory,
    fx,
    log: silentLogger,
    instanceId: newId('inst'),
    now: Date.now,
    // development pegs until the operator's FX_RATES_FILE loader lands (see domain/fx.ts)
  };
  // build() points ctx.log at the app's logger, scoped to the current request
  const tracing = createTracing(options.tracing);
  const app = await build({ config, ctx, logger: options.logger, https: options.https ?? null, metrics, ...(tracing ? { tracing } : {}) });
  verify.circuit.onStateChange = (state) => {
    metrics.setCircuitState(state);
    ctx.log.warn({ circuit: state }, 'Verify circuit changed state'); // with the request_id of the call that tripped it
  };

  // One run at a time: a slow Verify must not let runs pile up on each other.
  let housekeepingRun: Promise<void> | undefined;
  const housekeeping = () => {
    housekeepingRun ??= (async () => {
      try {
        const expired = await store.expireGrants(Date.now(), config.tokenIdleTtlSeconds * 1000);
        const report = await reconcile(ctx);
        if (expired > 0 || report.examined > 0 || report.expired > 0) app.log.info({ expired_logins: expired, ...report }, 'housekeeping');
      } catch (error) {
        app.log.warn({ err: error }, 'housekeeping failed; will retry');
      } finally {
        housekeepingRun = undefined;
      }
    })();
    return housekeepingRun;
  };
  options.configure?.(app);
  const settlement = new SettlementService(ctx, {
    fourEyes: config.operator.fourEyes,
    debtor: config.operator.debtor,
    onReconciled: (report) => metrics.setReconciliationUnexplained(report.counts.unexplained),
  });
  const latest = await store.settlement.latestReconciliationReport();
  if (latest) metrics.setReconciliationUnexplained(JSON.parse(latest.counts_json).unexplained);

  // Yesterday's report, once across instances: the lease is named after the day and kept
  // (never released after a run) until well past it; a failed run releases it for a retry.
  const runDailyReconciliation = async (): Promise<'ran' | 'taken'> => {
    const now = Date.now();
    const day = previousUtcDay(now);
    const lease = `daily-reconciliation:${day}`;
    // an owner per attempt: claimLease lets an owner re-take its own lease, and this
    // instance's next check must find the day taken
    const owner = `${ctx.instanceId}/${newId('day')}`;
    if (!(await store.claimLease(lease, owner, now, now + 3 * 86_400_000))) return 'taken';
    try {
      await settlement.reconcileDay({ name: 'scheduler', role: 'system' }, day);
      return 'ran';
    } catch (error) {
      await store.releaseLease(lease, owner).catch(() => {});
      throw error;
    }
  };
  let dailyRun: Promise<unknown> | undefined;
  const daily = () => {
    dailyRun ??= runDailyReconciliation()
      .catch((error) => app.log.warn({ err: error }, 'daily reconciliation failed; will retry'))
      .finally(() => {
        dailyRun = undefined;
      });
  };
  const dailyEvery = options.dailyReconcileCheckMs ?? 600_000;
  const dailyFirst = dailyEvery > 0 ? setTimeout(daily, Math.min(60_000, dailyEvery)) : undefined;
  const dailyTimer = dailyEvery > 0 ? setInterval(daily, dailyEvery) : undefined;
  dailyFirst?.unref();
  dailyTimer?.unref();

  const reloadFxRates = async (actor = 'system') => {
    const entries = fx.reload();
    await store.settlement.appendAudit({ actor, role: 'system', action: 'fx_rates_reloaded', target: config.fxRatesFile ?? DEFAULT_FX_RATES_FILE, details: { entries } }, Date.now());
    app.log.info({ entries }, 'exchange rates reloaded');
    return entries;
  };

  let operatorApp: FastifyInstance | undefined;
  let operatorUrl: string | undefined;
  if (config.operator.port !== undefined) {
    operatorApp = await buildOperatorApp({
      ctx,
      service: settlement,
      circuitState: () => verify.circuit.state,
      operator: config.operator,
      logger: options.logger ?? { level: config.logLevel },
      bodyLimitBytes: config.bodyLimitBytes,
    });
    operatorUrl = await operatorApp.listen({ host: config.operator.host, port: config.operator.port });
  }

  await app.ready();
  await housekeeping();
  const period = options.reconcileEveryMs ?? config.reconcileIntervalSeconds * 1000;
  const timer = period > 0 ? setInterval(() => void housekeeping(), period) : undefined;
  timer?.unref();

  let stopped = false;
  return {
    app,
    config,
    ctx,
    circuit: verify.circuit,
    metrics,
    ...(devSecret ? { devSecret } : {}),
    ...(sandboxUrl ? { sandboxUrl } : {}),
    ...(sandbox ? { sandbox } : {}),
    ...(tracing ? { tracing } : {}),
    settlement,
    ...(operatorApp ? { operatorApp } : {}),
    ...(operatorUrl ? { operatorUrl } : {}),
    reloadFxRates,
    runDailyReconciliation,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearInterval(timer);
      if (dailyFirst) clearTimeout(dailyFirst);
      if (dailyTimer) clearInterval(dailyTimer);
      await operatorApp?.close();
      await housekeepingRun; // never close the store under a reconciliation
      await dailyRun;
      await app.close(); // stops accepting, lets requests in flight finish
      await verify.close();
      await sandbox?.app.close();
      await store.close();
      await tracing?.shutdown(); // sends the spans still batched
    },
  };
}

const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };
