/**
 * Configuration: read once from the environment, validated against a schema at start-up
 * (as the Fastify demo does), with development defaults so `npm start` works with none.
 * Every setting is documented in .env.example and the README.
 */
import { Ajv } from 'ajv';
import type { DomainSettings } from './domain/context.js';
import { operatorConfigOf, type OperatorConfig } from './operator/config.js';

/** The Kasisto contract revisions the connector can serve (spec/kasisto/<revision>.yaml), one per deployment. */
export const KASISTO_API_REVISIONS = ['1.0', '1.0-final', '1.2', '1.3'] as const;
export type KasistoRevision = (typeof KASISTO_API_REVISIONS)[number];

/** Every setting; the domain's own are DomainSettings (src/domain/context.ts), the rest are the edge's. */
export interface Config extends DomainSettings {
  nodeEnv: string;
  port: number;
  host: string;
  basePath: string;
  /** The Kasisto revision this deployment speaks (its spec, handlers and error bodies). */
  kasistoApiRevision: KasistoRevision;
  /** The bank's default currency: 1.3 gives balances in it (foreign ones in fcy_*). */
  defaultCurrency: string;
  /** Accepted Kasisto secrets; more than one during a rotation. Empty → a dev secret is made. */
  kasistoSecrets: string[];
  verifyBaseUrl: string | undefined;
  verifySecretKey: string | undefined;
  verifyPublicKey: string | undefined;
  verifyRetries: number;
  /** Time all the Verify calls of one Kasisto request may take together. */
  verifyBudgetMs: number;
  /** Keep-alive connections to Verify (calls beyond wait in our queue, see adapters/verify/gate.ts). */
  verifyPoolConnections: number;
  /** Verify calls one customer may have in flight or queued at once. */
  verifyPerCustomerCalls: number;
  databaseUrl: string;
  /** PostgreSQL connections per instance (the conversation bench's PostgreSQL limit at 10). */
  databasePoolSize: number;
  credentialsKey: string | undefined;
  /** Reuse of a token's login read from the store, in ms (0: read every request); the cross-instance revocation delay. */
  tokenCacheMs: number;
  directoryFile: string | undefined;
  bodyLimitBytes: number;
  rateLimitPerToken: number;
  rateLimitPerAddress: number;
  rateLimitWindowSeconds: number;
  logLevel: string;
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  tlsTerminatedByProxy: boolean;
  trustProxy: boolean;
  circuitFailureThreshold: number;
  circuitOpenSeconds: number;
  /** Period of background housekeeping (reconciliation of interrupted movements, expiry of logins). */
  reconcileIntervalSeconds: number;
  /** Whole request headers must arrive within this (slowloris); 408 and closed after. */
  headersTimeoutMs: number;
  /** Whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** A socket with no traffic at all is closed after this. */
  connectionTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (keep it above a proxy's idle timeout). */
  keepAliveTimeoutMs: number;
  /** Time limit of the Verify check behind GET /readyz. */
  readyCheckTimeoutMs: number;
  /** When set, GET /metrics requires `Authorization: Bearer <it>`. */
  metricsToken: string | undefined;
  /** SIGTERM: requests in flight get this long to finish before the process exits anyway. */
  shutdownTimeoutMs: number;
  /** The operator's exchange rates (issue 11); undefined: the development pegs. */
  fxRatesFile: string | undefined;
  /** The operator API and settlement (OPERATOR_*, issue 11). */
  operator: OperatorConfig;
}

const envSchema = {
  type: 'object',
  properties: {
    NODE_ENV: { type: 'string', default: 'development' },
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8000 },
    HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    BASE_PATH: { type: 'string', pattern: '^(/[A-Za-z0-9._~-]+)*$', default: '/api' },
    KASISTO_SECRET: { type: 'string', default: '' },
    KASISTO_API_REVISION: { type: 'string', enum: [...KASISTO_API_REVISIONS], default: '1.0' },
    KASISTO_DEFAULT_CURRENCY: { type: 'string', pattern: '^[A-Z]{3}$', default: 'AED' },
    VERIFY_BASE_URL: { type: 'string', pattern: '^https?://' },
    VERIFY_SECRET_KEY: { type: 'string', pattern: '^sk_' },
    VERIFY_PUBLIC_KEY: { type: 'string', pattern: '^pk_' },
    VERIFY_BANK_ID: { type: 'string', minLength: 1, default: 'test_bank' },
    VERIFY_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 60000, default: 3000 },
    VERIFY_RETRIES: { type: 'integer', minimum: 0, maximum: 5, default: 2 },
    VERIFY_BUDGET_MS: { type: 'integer', minimum: 100, maximum: 120000, default: 2500 },
    VERIFY_POOL_CONNECTIONS: { type: 'integer', minimum: 1, maximum: 4096, default: 128 },
    VERIFY_PER_CUSTOMER_CALLS: { type: 'integer', minimum: 1, maximum: 1000, default: 4 },
    DATABASE_URL: { type: 'string', pattern: '^(sqlite:|postgres://|postgresql://)', default: 'sqlite:data/connector.db' },
    DATABASE_POOL_SIZE: { type: 'integer', minimum: 1, maximum: 500, default: 10 },
    CREDENTIALS_KEY: { type: 'string', minLength: 1 },
    TOKEN_IDLE_TTL_SECONDS: { type: 'integer', minimum: 10, default: 900 },
    TOKEN_ABSOLUTE_TTL_SECONDS: { type: 'integer', minimum: 10, default: 28800 },
    TOKEN_ROTATION_GRACE_SECONDS: { type: 'integer', minimum: 0, maximum: 600, default: 30 },
    OTP_WINDOW_SECONDS: { type: 'integer', minimum: 10, default: 300 },
    OTP_MAX_ATTEMPTS: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
    CUSTOMER_MAX_FAILURES: { type: 'integer', minimum: 1, maximum: 100, default: 5 },
    CUSTOMER_LOCKOUT_SECONDS: { type: 'integer', minimum: 1, maximum: 604800, default: 900 },
    SIGNIN_ATTEMPTS_PER_WINDOW: { type: 'integer', minimum: 1, maximum: 10000, default: 10 },
    SIGNIN_WINDOW_SECONDS: { type: 'integer', minimum: 1, maximum: 86400, default: 60 },
    RECONCILE_LOOKBACK_DAYS: { type: 'integer', minimum: 1, maximum: 365, default: 7 },
    ACCOUNTS_CACHE_SECONDS: { type: 'integer', minimum: 0, default: 60 },
    TOKEN_CACHE_MS: { type: 'integer', minimum: 0, maximum: 10000, default: 1000 },
    RETRY_WINDOW_SECONDS: { type: 'integer', minimum: 0, default: 600 },
    DIRECTORY_FILE: { type: 'string', minLength: 1 },
    BODY_LIMIT_BYTES: { type: 'integer', minimum: 1024, maximum: 10485760, default: 65536 },
    RATE_LIMIT_PER_TOKEN: { type: 'integer', minimum: 1, default: 600 },
    RATE_LIMIT_PER_ADDRESS: { type: 'integer', minimum: 1, default: 3000 },
    RATE_LIMIT_WINDOW_SECONDS: { type: 'integer', minimum: 1, default: 60 },
    LOG_LEVEL: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    TLS_CERT_FILE: { type: 'string', minLength: 1 },
    TLS_KEY_FILE: { type: 'string', minLength: 1 },
    TLS_TERMINATED_BY_PROXY: { type: 'boolean', default: false },
    TRUST_PROXY: { type: 'boolean', default: false },
    CIRCUIT_FAILURE_THRESHOLD: { type: 'integer', minimum: 1, default: 5 },
    CIRCUIT_OPEN_SECONDS: { type: 'integer', minimum: 1, default: 10 },
    RECONCILE_INTERVAL_SECONDS: { type: 'integer', minimum: 1, maximum: 3600, default: 30 },
    HEADERS_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 10000 },
    REQUEST_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 30000 },
    CONNECTION_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 30000 },
    KEEP_ALIVE_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 5000 },
    READY_CHECK_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 60000, default: 2000 },
    METRICS_TOKEN: { type: 'string', minLength: 16 },
    SHUTDOWN_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 600000, default: 15000 },
    FX_RATES_FILE: { type: 'string', minLength: 1 },
    OPERATOR_PORT: { type: 'integer', minimum: 0, maximum: 65535 },
    OPERATOR_HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    OPERATOR_API_KEYS: { type: 'string' },
    OPERATOR_FOUR_EYES: { type: 'boolean', default: true },
    OPERATOR_DEBTOR_NAME: { type: 'string', minLength: 1, maxLength: 140 },
    OPERATOR_DEBTOR_IBAN: { type: 'string', minLength: 15, maxLength: 34 },
    OPERATOR_DEBTOR_BIC: { type: 'string', pattern: '^[A-Za-z0-9]{8}([A-Za-z0-9]{3})?$' },
  },
} as const;

/** The names of every setting (for src/env-file.ts's report of where each came from). */
export const SETTING_NAMES: readonly string[] = Object.keys(envSchema.properties);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Reads and validates the environment; throws ConfigError naming every bad or missing setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Environment values are strings: coerce numbers and booleans here, and only here.
  const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true });
  const validate = ajv.compile(envSchema);
  const known = Object.keys(envSchema.properties);
  const input: Record<string, unknown> = {};
  for (const name of known) {
    const value = env[name];
    if (value !== undefined && value !== '') input[name] = value;
  }
  if (!validate(input)) {
    // never echo values: some of these settings are secrets
    throw new ConfigError(
      (validate.errors ?? []).map((e) => `${e.instancePath.slice(1) || 'environment'}: ${e.message ?? 'is invalid'}`),
    );
  }
  const v = input as Record<string, any>;
  const operatorProblems: string[] = [];
  const config: Config = {
    nodeEnv: v.NODE_ENV,
    port: v.PORT,
    host: v.HOST,
    basePath: v.BASE_PATH,
    kasistoApiRevision: v.KASISTO_API_REVISION,
    defaultCurrency: v.KASISTO_DEFAULT_CURRENCY,
    kasistoSecrets: String(v.KASISTO_SECRET)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    verifyBaseUrl: v.VERIFY_BASE_URL?.replace(/\/+$/, ''),
    verifySecretKey: v.VERIFY_SECRET_KEY,
    verifyPublicKey: v.VERIFY_PUBLIC_KEY,
    verifyBankId: v.VERIFY_BANK_ID,
    verifyTimeoutMs: v.VERIFY_TIMEOUT_MS,
    verifyRetries: v.VERIFY_RETRIES,
    verifyBudgetMs: v.VERIFY_BUDGET_MS,
    verifyPoolConnections: v.VERIFY_POOL_CONNECTIONS,
    verifyPerCustomerCalls: v.VERIFY_PER_CUSTOMER_CALLS,
    databaseUrl: v.DATABASE_URL,
    databasePoolSize: v.DATABASE_POOL_SIZE,
    credentialsKey: v.CREDENTIALS_KEY,
    tokenIdleTtlSeconds: v.TOKEN_IDLE_TTL_SECONDS,
    tokenAbsoluteTtlSeconds: v.TOKEN_ABSOLUTE_TTL_SECONDS,
    tokenRotationGraceSeconds: v.TOKEN_ROTATION_GRACE_SECONDS,
    otpWindowSeconds: v.OTP_WINDOW_SECONDS,
    otpMaxAttempts: v.OTP_MAX_ATTEMPTS,
    customerMaxFailures: v.CUSTOMER_MAX_FAILURES,
    customerLockoutSeconds: v.CUSTOMER_LOCKOUT_SECONDS,
    signInAttemptsPerWindow: v.SIGNIN_ATTEMPTS_PER_WINDOW,
    signInWindowSeconds: v.SIGNIN_WINDOW_SECONDS,
    reconcileLookbackDays: v.RECONCILE_LOOKBACK_DAYS,
    accountsCacheSeconds: v.ACCOUNTS_CACHE_SECONDS,
    tokenCacheMs: v.TOKEN_CACHE_MS,
    retryWindowSeconds: v.RETRY_WINDOW_SECONDS,
    directoryFile: v.DIRECTORY_FILE,
    bodyLimitBytes: v.BODY_LIMIT_BYTES,
    rateLimitPerToken: v.RATE_LIMIT_PER_TOKEN,
    rateLimitPerAddress: v.RATE_LIMIT_PER_ADDRESS,
    rateLimitWindowSeconds: v.RATE_LIMIT_WINDOW_SECONDS,
    logLevel: v.LOG_LEVEL,
    tlsCertFile: v.TLS_CERT_FILE,
    tlsKeyFile: v.TLS_KEY_FILE,
    tlsTerminatedByProxy: v.TLS_TERMINATED_BY_PROXY,
    trustProxy: v.TRUST_PROXY,
    circuitFailureThreshold: v.CIRCUIT_FAILURE_THRESHOLD,
    circuitOpenSeconds: v.CIRCUIT_OPEN_SECONDS,
    reconcileIntervalSeconds: v.RECONCILE_INTERVAL_SECONDS,
    headersTimeoutMs: v.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: v.REQUEST_TIMEOUT_MS,
    connectionTimeoutMs: v.CONNECTION_TIMEOUT_MS,
    keepAliveTimeoutMs: v.KEEP_ALIVE_TIMEOUT_MS,
    readyCheckTimeoutMs: v.READY_CHECK_TIMEOUT_MS,
    metricsToken: v.METRICS_TOKEN,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    fxRatesFile: v.FX_RATES_FILE,
    operator: operatorConfigOf(v, operatorProblems),
  };
  const problems = [...operatorProblems, ...crossChecks(config)];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function crossChecks(c: Config): string[] {
  const problems: string[] = [];
  if (Boolean(c.tlsCertFile) !== Boolean(c.tlsKeyFile)) problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  if (c.verifyBaseUrl && (!c.verifySecretKey || !c.verifyPublicKey)) {
    if (!c.verifySecretKey) problems.push('VERIFY_SECRET_KEY is required when VERIFY_BASE_URL is set');
    if (!c.verifyPublicKey) problems.push('VERIFY_PUBLIC_KEY is required when VERIFY_BASE_URL is set');
  }
  if (c.credentialsKey !== undefined) {
    try {
      parseMasterKey(c.credentialsKey);
    } catch {
      problems.push('CREDENTIALS_KEY must be 32 bytes (64 hex characters or base64)');
    }
  }
  if (!Intl.supportedValuesOf('currency').includes(c.defaultCurrency)) problems.push('KASISTO_DEFAULT_CURRENCY must be an ISO 4217 currency code');
  if (c.tokenIdleTtlSeconds > c.tokenAbsoluteTtlSeconds) problems.push('TOKEN_IDLE_TTL_SECONDS must not exceed TOKEN_ABSOLUTE_TTL_SECONDS');
  // Node refuses to create a server whose header limit exceeds its whole-request limit.
  if (c.headersTimeoutMs > c.requestTimeoutMs) problems.push('HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS');
  if (c.nodeEnv === 'production') {
    // Production never runs on development defaults: name every missing setting at once.
    if (c.kasistoSecrets.length === 0) problems.push('KASISTO_SECRET is required in production');
    if (c.kasistoSecrets.some((s) => s.length < 16)) problems.push('KASISTO_SECRET values must be at least 16 characters in production');
    if (!c.verifyBaseUrl) problems.push('VERIFY_BASE_URL is required in production (the embedded sandbox is for development)');
    if (!c.verifySecretKey) problems.push('VERIFY_SECRET_KEY is required in production');
    if (!c.verifyPublicKey) problems.push('VERIFY_PUBLIC_KEY is required in production');
    if (!c.credentialsKey) problems.push('CREDENTIALS_KEY is required in production');
    // /metrics names operations, outcomes and the circuit state: not for anyone who can reach the port
    if (!c.metricsToken) problems.push('METRICS_TOKEN is required in production (GET /metrics answers only with it)');
    // the operator API moves money: never open without keys
    if (c.operator.port !== undefined && c.operator.keys.length === 0) problems.push('OPERATOR_API_KEYS is required in production when OPERATOR_PORT is set');
    if (!c.tlsCertFile && !c.tlsTerminatedByProxy) {
      problems.push('TLS_CERT_FILE and TLS_KEY_FILE (or TLS_TERMINATED_BY_PROXY=true) are required in production');
    }
  }
  return problems;
}

/** Parses a 32-byte key given as 64 hex characters or base64/base64url. */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new RangeError('CREDENTIALS_KEY must be 32 bytes (64 hex characters or base64)');
  return key;
}
