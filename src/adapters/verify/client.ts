/**
 * The Verify Payments client: the ONLY code path by which the connector talks to Verify.
 *
 * - Typed by generated/verify.ts (openapi-fetch `createClient<paths>`); 2xx bodies are also
 *   validated at run time against spec/verify.yaml (see validate.ts).
 * - One keep-alive connection pool (an undici Agent), closed by `close()`, behind our own
 *   admission gate (gate.ts): waiting for a connection is not Verify's time, and a call that
 *   cannot be served within the request's budget fails fast as `overloaded`.
 * - A per-attempt time limit covering the headers and the body.
 * - Bounded retries with exponential backoff and jitter, only for calls that are safe to
 *   repeat (GETs and the idempotent verification PUTs), only on timeout, unreachable and
 *   502/503/504, within about twice the time limit in total. createSession, login and
 *   createTransfer are sent exactly once.
 * - Every failure is a VerifyError (errors.ts). Nothing logged or thrown carries keys,
 *   credentials, OTPs or answers. Verify's own message on a failure is logged, redacted.
 * - A tolerant reader (validate.ts): an unknown enum value, a missing non-essential field
 *   or an id off its inferred pattern is drift, not failure: the answer is used, the drift
 *   is counted (onDrift) and logged at warn once per (operation, kind, pointer) per
 *   interval, with the value's JSON type and never the value. Drift never reaches the
 *   circuit breaker, which only sees thrown VerifyErrors.
 */
import createClient from 'openapi-fetch';
import { Agent, fetch as undiciFetch, Request as UndiciRequest } from 'undici';
import type { components, operations, paths } from '../../../generated/verify.js';
import { VerifyError, kindForStatus, verifyMessageOf, type VerifyErrorKind } from './errors.js';
import { responseValidators, type ContractDrift, type DriftKind } from './validate.js';
import { currentRequestScope, currentRequestTrace, currentVerifyDeadline, currentVerifyKey } from './deadline.js';
import type { VerifyCallTrace } from '../../observability/tracing.js';
import { GateRefused, VerifyGate, type GateStats } from './gate.js';

export { VerifyError, type VerifyErrorKind } from './errors.js';

/**
 * A value Verify sent that the spec's enum does not list. The tolerant reader lets it
 * through (see validate.ts), so an enum field the domain branches on is typed
 * `Known | UnknownEnumValue`: narrow with the isKnown… guards below, then switch
 * exhaustively over the known values (tsc names a value the spec adds and the code lacks).
 */
export type UnknownEnumValue = string & { readonly __unknownEnumValue: true };

type Tolerant<T, K extends keyof T> = Omit<T, K> & { [P in K]: T[P] | UnknownEnumValue };

export type VerifySessionStatus = components['schemas']['session']['status'];
export type VerifyTransferStatus = components['schemas']['transfer']['status'];
export type VerifyVerificationStatus = components['schemas']['verification']['status'];
export type VerifyAccountType = components['schemas']['bank_account']['type'];

export type VerifyBank = components['schemas']['bank'];
export type VerifyVerification = Tolerant<components['schemas']['verification'], 'status'>;
export type VerifySession = Omit<Tolerant<components['schemas']['session'], 'status'>, 'verification'> & {
  verification?: VerifyVerification;
};
export type VerifyBankAccount = Tolerant<components['schemas']['bank_account'], 'type'>;
export type VerifyTransfer = Omit<Tolerant<components['schemas']['transfer'], 'status'>, 'verification'> & {
  verification?: VerifyVerification;
};
export type VerifyErrorBody = components['schemas']['error'];
// Request bodies are the generated schemas themselves (never restated here), so a field
// Verify makes required fails tsc at every call site, in the domain too.
export type VerifyCreateSessionRequest = components['schemas']['create_session_request'];
export type VerifyLoginRequest = components['schemas']['login_request'];
/** A login body whose `bank_id` may be left out: the client then logs in to its configured bank. */
export type VerifyLoginInput = Omit<VerifyLoginRequest, 'bank_id'> & Partial<Pick<VerifyLoginRequest, 'bank_id'>>;
export type VerifyCredentials = VerifyLoginRequest['credentials'];
export type VerifyCreateTransferRequest = components['schemas']['create_transfer_request'];
export type VerifyVerificationRequest = components['schemas']['verification_request'];

/** The spec's operationIds: the `operation` of onCall events, log lines and VerifyErrors. */
export type VerifyOperation = keyof operations;

export type VerifyCallOutcome = 'ok' | VerifyErrorKind;

export interface VerifyCallEvent {
  operation: VerifyOperation;
  durationMs: number;
  outcome: VerifyCallOutcome;
  /** The HTTP status, when Verify answered. */
  status?: number;
}

/** A pino-like logger (pino's Logger fits). */
export interface VerifyLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface VerifyClientOptions {
  baseUrl: string;
  secretKey: string;
  publicKey: string;
  /** The bank logged in to when `login` names none. */
  bankId: string;
  /** Time limit of one HTTP attempt (headers and body), in milliseconds. */
  timeoutMs: number;
  /** Retries of calls that are safe to repeat (default 2). */
  retries?: number;
  logger?: VerifyLogger;
  /** Called once per HTTP attempt (metrics, circuit breaker). Must not throw; if it does, it is ignored. */
  onCall?: (event: VerifyCallEvent) => void;
  /**
   * Extra request headers per call, for tests only (e.g. Prism's `Prefer: code=503`). They
   * can neither replace `Authorization` nor `Content-Type`.
   */
  headers?: (operation: VerifyOperation) => Record<string, string> | undefined;
  /** Size of the keep-alive pool to Verify: attempts in flight at once (default 128). */
  connections?: number;
  /** Called for every drift in an answer (metrics). Must not throw; if it does, it is ignored. */
  onDrift?: (event: VerifyDriftEvent) => void;
  /** A drift (operation, kind, pointer) is logged at most once per this interval (default 10 min). */
  driftLogIntervalMs?: number;
  /** Calls one customer (the request's verifyKey) may have in flight or queued (default 4). */
  perCustomerCalls?: number;
}

/** An answer departed from spec/verify.yaml in a way the connector tolerates. */
export interface VerifyDriftEvent extends ContractDrift {
  operation: VerifyOperation;
}
export type { ContractDrift, DriftKind };

/**
 * The enum values the connector knows, spelled out so that tsc fails here (naming the
 * value) when spec/verify.yaml adds one: `exhaustive<T>()(...)` accepts the list only
 * when it covers T.
 */
function exhaustive<T extends string>() {
  return <const V extends readonly T[]>(
    ...values: V & ([Exclude<T, V[number]>] extends [never] ? unknown : { missing: Exclude<T, V[number]> })
  ): readonly T[] => values;
}
export const VERIFY_TRANSFER_STATUSES = exhaustive<VerifyTransferStatus>()('initial', 'pending_verification', 'succeeded', 'failed');
export const VERIFY_SESSION_STATUSES = exhaustive<VerifySessionStatus>()('initial', 'pending_verification', 'connected', 'failed', 'completed');
export const VERIFY_VERIFICATION_STATUSES = exhaustive<VerifyVerificationStatus>()('initial', 'retry', 'succeeded', 'failed');
export const VERIFY_ACCOUNT_TYPES = exhaustive<VerifyAccountType>()('current', 'savings');

const isIn =
  <T extends string>(values: readonly T[]) =>
  (value: T | UnknownEnumValue): value is T =>
    (values as readonly string[]).includes(value);
/** False for a status the spec does not list: for money that means "outcome unknown". */
export const isKnownTransferStatus = isIn(VERIFY_TRANSFER_STATUSES);
export const isKnownSessionStatus = isIn(VERIFY_SESSION_STATUSES);
export const isKnownVerificationStatus = isIn(VERIFY_VERIFICATION_STATUSES);
export const isKnownAccountType = isIn(VERIFY_ACCOUNT_TYPES);

export type VerificationTarget = { type: 'session'; sessionId: string } | { type: 'transfer'; transferId: string };

export type VerificationAnswer = VerifyVerificationRequest;

export interface VerifyClient {
  listBanks(): Promise<VerifyBank[]>;
  createSession(input: VerifyCreateSessionRequest): Promise<VerifySession>;
  getSession(sessionId: string): Promise<VerifySession>;
  login(sessionId: string, input: VerifyLoginInput): Promise<VerifySession>;
  listBankAccounts(sessionId: string): Promise<VerifyBankAccount[]>;
  createTransfer(sessionId: string, input: VerifyCreateTransferRequest): Promise<VerifyTransfer>;
  listSessionTransfers(sessionId: string): Promise<VerifyTransfer[]>;
  getSessionTransfer(sessionId: string, transferId: string): Promise<VerifyTransfer>;
  getTransfer(transferId: string): Promise<VerifyTransfer>;
  submitVerification(target: VerificationTarget, verificationId: string, answer: VerificationAnswer): Promise<VerifyVerification>;
  /** Closes the connection pool (waits for calls in flight). Calls made afterwards fail as `unreachable`. */
  close(): Promise<void>;
}

/** First backoff delay; each further delay is 3× the previous one, with jitter. */
const BACKOFF_BASE_MS = 50;
const BACKOFF_MAX_MS = 1000;
/** Headers the test-only `headers` hook cannot set. */
const PROTECTED_HEADERS = new Set(['authorization', 'content-type', 'content-length', 'host', 'accept']);
const RETRY_STATUSES = new Set([502, 503, 504]);
const NETWORK_TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

// The prefixes are in Verify's examples; the length of 12 is inferred (spec: x-inferred), so
// ids are only held to what keeps a path segment safe.
const ID_PATTERNS = {
  session: /^ses_[A-Za-z0-9]{1,64}$/,
  transfer: /^tr_[A-Za-z0-9]{1,64}$/,
  verification: /^vrf_[A-Za-z0-9]{1,64}$/,
  bank_account: /^ba_[A-Za-z0-9]{1,64}$/,
} as const;

type Auth = 'secret' | 'public';

interface CallSpec {
  operation: VerifyOperation;
  auth: Auth;
  /** Safe to repeat: GETs and the idempotent verification PUTs. */
  idempotent: boolean;
  /** Ids to log (never secrets). */
  ids?: Record<string, string>;
  /** Values that must not appear in a Verify message we keep (credentials, OTPs, answers). */
  sensitive?: string[];
}

// a type alias (not an interface) so it fits openapi-fetch's init with an index signature
type AttemptInit = {
  signal: AbortSignal;
  headers: Record<string, string>;
  fetch: (request: Request) => Promise<Response>;
};

/** What an openapi-fetch call resolves to, seen loosely. */
interface RawResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

type AttemptResult<T> =
  | { ok: true; data: T; status: number; drift: ContractDrift[] }
  | { ok: false; error: VerifyError; status?: number; limitMs?: number };

export function createVerifyClient(options: VerifyClientOptions): VerifyClient & { readonly pool: GateStats } {
  const timeoutMs = options.timeoutMs;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError('timeoutMs must be a positive number');
  const retries = Math.max(0, Math.floor(options.retries ?? 2));
  const logger = options.logger;
  const validators = responseValidators();
  const driftLogIntervalMs = options.driftLogIntervalMs ?? 10 * 60_000;
  /** (operation, kind, pointer) -> when it was last logged. */
  const driftLogged = new Map<string, number>();

  function reportDrift(operation: VerifyOperation, drift: ContractDrift[]): void {
    for (const d of drift) {
      try {
        options.onDrift?.({ operation, ...d });
      } catch {
        // metrics must never break a call
      }
      const key = `${operation} ${d.kind} ${d.pointer}`;
      const now = Date.now();
      const last = driftLogged.get(key);
      if (last !== undefined && now - last < driftLogIntervalMs) continue;
      if (driftLogged.size >= 1_000) driftLogged.clear(); // bounded: pointers come from the spec, but be safe
      driftLogged.set(key, now);
      // the value's JSON type only: the value may be personal
      logger?.warn(
        { operation, drift: d.kind, pointer: d.pointer, valueType: d.valueType },
        'verify answer departs from spec/verify.yaml (tolerated)',
      );
    }
  }

  const gate = new VerifyGate({ slots: options.connections ?? 128, perKeyMax: options.perCustomerCalls ?? 4 });
  const agent = new Agent({
    connections: gate.size,
    pipelining: 1,
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 60_000,
    // our own per-attempt abort governs; these are backstops
    headersTimeout: timeoutMs + 1_000,
    bodyTimeout: timeoutMs + 1_000,
    connect: { timeout: timeoutMs },
  });
  let closed = false;
  /** Requests that waited in our queue: their later calls are refused (503) rather than sent without time for an answer. */
  const delayedByQueue = new WeakSet<object>();

  const baseFetch = (request: Request): Promise<Response> =>
    undiciFetch(request as unknown as UndiciRequest, { dispatcher: agent }) as unknown as Promise<Response>;

  const api = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    fetch: baseFetch,
    Request: UndiciRequest as unknown as typeof Request,
    redirect: 'manual',
  });

  const authHeader = (auth: Auth): string => `Token ${auth === 'secret' ? options.secretKey : options.publicKey}`;

  function emit(event: VerifyCallEvent): void {
    try {
      options.onCall?.(event);
    } catch {
      // metrics must never break a call
    }
  }

  async function attempt<T>(
    spec: CallSpec,
    limitMs: number,
    exec: (init: AttemptInit) => Promise<RawResult<T>>,
    traceHeaders: Readonly<Record<string, string>> | undefined,
  ): Promise<AttemptResult<T>> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, limitMs);
    let status: number | undefined;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers?.(spec.operation) ?? {})) {
      if (!PROTECTED_HEADERS.has(name.toLowerCase())) headers[name] = value;
    }
    headers.Accept = 'application/json';
    headers.Authorization = authHeader(spec.auth);
    // W3C traceparent of the call's span: Verify's side of the trace joins ours
    if (traceHeaders) Object.assign(headers, traceHeaders);
    const fail = (kind: VerifyErrorKind, detail?: string, verifyMessage?: string): AttemptResult<T> => ({
      ok: false,
      status,
      error: new VerifyError({ kind, operation: spec.operation, status, detail, verifyMessage }),
    });
    try {
      const result = await exec({
        signal: controller.signal,
        headers,
        fetch: async (request) => {
          const response = await baseFetch(request);
          status = response.status;
          return response;
        },
      });
      status = result.response.status;
      if (!result.response.ok) {
        const kind = kindForStatus(status);
        return fail(kind, kind === 'contract' ? 'undocumented status' : undefined, verifyMessageOf(result.error, [
          options.secretKey,
          options.publicKey,
          ...(spec.sensitive ?? []),
        ]));
      }
      const checked = validators.check(spec.operation, result.data);
      if (checked.violation) return fail('contract', checked.violation);
      return { ok: true, data: result.data as T, status, drift: checked.drift };
    } catch (error) {
      if (timedOut) {
        const timeout = fail('timeout', `no complete answer within ${limitMs} ms`);
        return timeout.ok ? timeout : { ...timeout, limitMs };
      }
      if (error instanceof SyntaxError && status !== undefined && status >= 200 && status < 300) {
        return fail('contract', 'response body is not JSON');
      }
      const code = errorCode(error);
      if (code && NETWORK_TIMEOUT_CODES.has(code)) return fail('timeout', code);
      return fail('unreachable', code ?? (closed ? 'client closed' : 'connection failed'));
    } finally {
      clearTimeout(timer);
    }
  }

  /** One Verify call (all its attempts); a span of its own when the request is traced (observability/tracing.ts). */
  async function call<T>(spec: CallSpec, exec: (init: AttemptInit) => Promise<RawResult<T>>): Promise<T> {
    const parent = currentRequestTrace();
    if (parent === undefined) return runCall(spec, exec, undefined);
    const span = parent.startVerifyCall(spec.operation);
    try {
      const data = await runCall(spec, exec, span);
      span.end('ok');
      return data;
    } catch (error) {
      span.end(error instanceof VerifyError ? error.kind : 'error');
      throw error;
    }
  }

  async function runCall<T>(spec: CallSpec, exec: (init: AttemptInit) => Promise<RawResult<T>>, span: VerifyCallTrace | undefined): Promise<T> {
    const started = performance.now();
    // the call's own limit, or the request's Verify budget if that ends sooner
    const deadline = Math.min(started + 2 * timeoutMs, currentVerifyDeadline() ?? Infinity);
    if (deadline - started < 1) {
      // nothing is sent: safe even for calls that must never be sent twice
      emit({ operation: spec.operation, durationMs: 0, outcome: 'timeout' });
      throw new VerifyError({ kind: 'timeout', operation: spec.operation, detail: 'request budget for Verify calls spent', attempts: 0 });
    }
    const maxAttempts = spec.idempotent ? retries + 1 : 1;
    const minAttemptMs = Math.min(100, timeoutMs / 2);
    const key = currentVerifyKey();
    const scope = currentRequestScope();
    let attempts = 0;
    let previous: VerifyError | undefined;
    for (;;) {
      let release: () => void;
      try {
        const busy = gate.busy;
        if (scope && busy) delayedByQueue.add(scope);
        // under congestion, or for a request that lost time in our queue, a call without time
        // left for an answer is shed (503) rather than sent to time out (504)
        release = await gate.acquire(key, deadline, { strict: busy || (scope !== undefined && delayedByQueue.has(scope)) });
      } catch (error) {
        if (!(error instanceof GateRefused)) throw error;
        // not sent: not Verify's doing, so not a timeout (the circuit breaker ignores it)
        emit({ operation: spec.operation, durationMs: 0, outcome: 'overloaded' });
        logger?.warn({ operation: spec.operation, ...spec.ids, reason: error.reason, queued: gate.stats.queued }, 'verify call shed');
        if (previous) throw previous; // a retry that found no room: the failure that made it stands
        throw new VerifyError({ kind: 'overloaded', operation: spec.operation, detail: error.reason, attempts: 0 });
      }
      attempts += 1;
      const attemptStarted = performance.now();
      const limitMs = Math.max(1, Math.min(timeoutMs, Math.floor(deadline - attemptStarted)));
      let result: AttemptResult<T>;
      try {
        result = await attempt(spec, limitMs, exec, span?.headers);
      } finally {
        release();
      }
      const durationMs = Math.round((performance.now() - attemptStarted) * 10) / 10;
      gate.observe(durationMs);
      const outcome: VerifyCallOutcome = result.ok ? 'ok' : result.error.kind;
      if (span) {
        span.attempts = attempts;
        span.status = result.status;
      }
      emit({ operation: spec.operation, durationMs, outcome, ...(result.status !== undefined ? { status: result.status } : {}) });
      const fields = { operation: spec.operation, ...spec.ids, attempt: attempts, status: result.status, durationMs };

      if (result.ok) {
        logger?.debug(fields, 'verify call ok');
        if (result.drift.length) reportDrift(spec.operation, result.drift);
        return result.data;
      }

      const error = result.error;
      const retryable =
        error.kind === 'timeout' ||
        error.kind === 'unreachable' ||
        (error.kind === 'server' && error.status !== undefined && RETRY_STATUSES.has(error.status));
      if (spec.idempotent && retryable && attempts < maxAttempts && !closed) {
        const delay = backoff(attempts);
        if (performance.now() + delay + minAttemptMs <= deadline) {
          logger?.warn({ ...fields, kind: error.kind, retryInMs: delay }, 'verify call failed, retrying');
          previous = new VerifyError({ kind: error.kind, operation: error.operation, status: error.status, verifyMessage: error.verifyMessage, detail: error.detail, attempts });
          await sleep(delay);
          continue;
        }
      }
      const final = new VerifyError({
        kind: error.kind,
        operation: error.operation,
        status: error.status,
        verifyMessage: error.verifyMessage,
        detail: error.detail,
        attempts,
        ...(result.limitMs !== undefined ? { timeLimitMs: result.limitMs } : {}),
      });
      const level = error.kind === 'rejected' ? 'info' : error.kind === 'contract' ? 'error' : 'warn';
      // Verify's message says why it refused (e.g. a new required field); it is scrubbed of
      // the call's secrets and redacted of personal-looking data (errors.ts)
      logger?.[level]({ ...fields, kind: error.kind, detail: error.detail, verifyMessage: error.verifyMessage }, 'verify call failed');
      throw final;
    }
  }

  /** Refuses ids that do not look like Verify's before anything is sent (no path games). */
  function checkId(operation: VerifyOperation, kind: keyof typeof ID_PATTERNS, id: string): void {
    if (typeof id !== 'string' || !ID_PATTERNS[kind].test(id)) {
      throw new VerifyError({ kind: 'rejected', operation, detail: `invalid ${kind} id`, attempts: 0 });
    }
  }

  return {
    get pool() {
      return gate.stats;
    },

    async listBanks() {
      return call({ operation: 'listBanks', auth: 'public', idempotent: true }, (init) => api.GET('/banks', init));
    },

    async createSession(input) {
      // a copy without undefined members (JSON would drop them; a form would not)
      const body = withoutUndefined(input);
      return call({ operation: 'createSession', auth: 'secret', idempotent: false }, (init) =>
        api.POST('/sessions', { ...init, body }),
      );
    },

    async getSession(sessionId) {
      checkId('getSession', 'session', sessionId);
      return call({ operation: 'getSession', auth: 'secret', idempotent: true, ids: { sessionId } }, (init) =>
        api.GET('/sessions/{session_id}', { ...init, params: { path: { session_id: sessionId } } }),
      );
    },

    async login(sessionId, input) {
      checkId('loginSession', 'session', sessionId);
      const body: VerifyLoginRequest = { ...withoutUndefined(input), bank_id: input.bank_id ?? options.bankId };
      const sensitive = Object.values(body.credentials).filter((v): v is string => typeof v === 'string');
      return call(
        { operation: 'loginSession', auth: 'public', idempotent: false, ids: { sessionId, bankId: body.bank_id }, sensitive },
        (init) =>
          api.POST('/sessions/{session_id}/login', {
            ...init,
            params: { path: { session_id: sessionId } },
            body,
          }),
      );
    },

    async listBankAccounts(sessionId) {
      checkId('listBankAccounts', 'session', sessionId);
      return call({ operation: 'listBankAccounts', auth: 'public', idempotent: true, ids: { sessionId } }, (init) =>
        api.GET('/sessions/{session_id}/bank_accounts', { ...init, params: { path: { session_id: sessionId } } }),
      );
    },

    async createTransfer(sessionId, input) {
      const sourceId = input.source;
      checkId('createTransfer', 'session', sessionId);
      checkId('createTransfer', 'bank_account', sourceId);
      const body = withoutUndefined(input);
      return call({ operation: 'createTransfer', auth: 'public', idempotent: false, ids: { sessionId, sourceId } }, (init) =>
        api.POST('/sessions/{session_id}/transfers', {
          ...init,
          params: { path: { session_id: sessionId } },
          body,
        }),
      );
    },

    async listSessionTransfers(sessionId) {
      checkId('listSessionTransfers', 'session', sessionId);
      return call({ operation: 'listSessionTransfers', auth: 'secret', idempotent: true, ids: { sessionId } }, (init) =>
        api.GET('/sessions/{session_id}/transfers', { ...init, params: { path: { session_id: sessionId } } }),
      );
    },

    async getSessionTransfer(sessionId, transferId) {
      checkId('getSessionTransfer', 'session', sessionId);
      checkId('getSessionTransfer', 'transfer', transferId);
      return call(
        { operation: 'getSessionTransfer', auth: 'secret', idempotent: true, ids: { sessionId, transferId } },
        (init) =>
          api.GET('/sessions/{session_id}/transfers/{transfer_id}', {
            ...init,
            params: { path: { session_id: sessionId, transfer_id: transferId } },
          }),
      );
    },

    async getTransfer(transferId) {
      checkId('getTransfer', 'transfer', transferId);
      return call({ operation: 'getTransfer', auth: 'secret', idempotent: true, ids: { transferId } }, (init) =>
        api.GET('/transfers/{transfer_id}', { ...init, params: { path: { transfer_id: transferId } } }),
      );
    },

    async submitVerification(target, verificationId, answer) {
      const body: VerifyVerificationRequest = withoutUndefined(answer);
      if (answer.answers !== undefined) body.answers = [...answer.answers];
      const sensitive = [...(answer.challenge_response !== undefined ? [answer.challenge_response] : []), ...(answer.answers ?? [])];
      if (target.type === 'session') {
        const { sessionId } = target;
        checkId('submitSessionVerification', 'session', sessionId);
        checkId('submitSessionVerification', 'verification', verificationId);
        return call(
          { operation: 'submitSessionVerification', auth: 'public', idempotent: true, ids: { sessionId, verificationId }, sensitive },
          (init) =>
            api.PUT('/sessions/{session_id}/verifications/{verification_id}', {
              ...init,
              params: { path: { session_id: sessionId, verification_id: verificationId } },
              body,
            }),
        );
      }
      const { transferId } = target;
      checkId('submitTransferVerification', 'transfer', transferId);
      checkId('submitTransferVerification', 'verification', verificationId);
      return call(
        { operation: 'submitTransferVerification', auth: 'public', idempotent: true, ids: { transferId, verificationId }, sensitive },
        (init) =>
          api.PUT('/transfers/{transfer_id}/verifications/{verification_id}', {
            ...init,
            params: { path: { transfer_id: transferId, verification_id: verificationId } },
            body,
          }),
      );
    },

    async close() {
      if (closed) return;
      closed = true;
      await agent.close();
    },
  };
}

/** A shallow copy without the members set to undefined. */
function withoutUndefined<T extends object>(input: T): T {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as T;
}

/** Exponential backoff with jitter: ~50 ms, ~150 ms, ~450 ms… (each between half and all of it), capped. */
function backoff(attempt: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 3 ** (attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The code of a network error (undici puts it on `cause`, sometimes a level deeper). */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
