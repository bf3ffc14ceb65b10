/**
 * Typed failures of calls to Verify. Every failure of the Verify client — network, timeout,
 * HTTP status or a response that breaks spec/verify.yaml — reaches callers as a VerifyError;
 * no raw fetch/undici exception ever escapes the client.
 *
 * Messages are built only from the operation name, the kind, the HTTP status and a short
 * technical detail (an error code such as ECONNREFUSED, or a JSON path of a contract
 * violation): never from keys, credentials, OTPs, answers or request headers.
 */

/**
 * - `timeout`: no complete answer within the time limit (headers and body).
 * - `unreachable`: connection refused/reset, socket dropped, DNS failure, client closed.
 * - `server`: Verify answered 5xx.
 * - `rejected`: Verify answered 4xx (see `status` and `verifyMessage`).
 * - `contract`: Verify answered 2xx with a body that is not what spec/verify.yaml says
 *   (not JSON, missing fields, wrong `object`/status enum), or another undocumented status.
 * - `overloaded`: not sent: our own pool to Verify could not serve the call within the
 *   request's budget, or the customer has too many calls in flight (gate.ts). Says nothing
 *   about Verify.
 */
export type VerifyErrorKind = 'timeout' | 'unreachable' | 'server' | 'rejected' | 'contract' | 'overloaded';

/** The longest `verifyMessage` kept from a Verify error body. */
export const VERIFY_MESSAGE_MAX = 200;

export interface VerifyErrorInit {
  kind: VerifyErrorKind;
  operation: string;
  status?: number;
  verifyMessage?: string;
  detail?: string;
  attempts?: number;
  /** For a timeout: the time limit the (last) attempt had, ms. */
  timeLimitMs?: number;
}

export class VerifyError extends Error {
  override readonly name = 'VerifyError';
  readonly kind: VerifyErrorKind;
  /** The HTTP status Verify answered, when there was an answer. */
  readonly status?: number;
  /** The Verify operation (the spec's operationId, e.g. `createTransfer`). */
  readonly operation: string;
  /** Verify's `message` from `{object: 'error', message}` (4xx/5xx), truncated and scrubbed. */
  readonly verifyMessage?: string;
  /** A short technical detail: an error code (`ECONNREFUSED`) or the contract violation. */
  readonly detail?: string;
  /** How many HTTP attempts were made (0 when the call was refused before sending). */
  readonly attempts: number;
  /**
   * For a timeout: the time limit the (last) attempt had, ms. Less than VERIFY_TIMEOUT_MS
   * when the request's budget cut it short (e.g. after waiting in our queue).
   */
  readonly timeLimitMs?: number;

  constructor(init: VerifyErrorInit) {
    super(describe(init));
    this.kind = init.kind;
    this.operation = init.operation;
    if (init.status !== undefined) this.status = init.status;
    if (init.verifyMessage !== undefined) this.verifyMessage = init.verifyMessage;
    if (init.detail !== undefined) this.detail = init.detail;
    this.attempts = init.attempts ?? 1;
    if (init.timeLimitMs !== undefined) this.timeLimitMs = init.timeLimitMs;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      kind: this.kind,
      operation: this.operation,
      status: this.status,
      verifyMessage: this.verifyMessage,
      detail: this.detail,
      attempts: this.attempts,
    };
  }
}

function describe(init: VerifyErrorInit): string {
  const status = init.status !== undefined ? ` (HTTP ${init.status})` : '';
  const detail = init.detail ? `: ${init.detail}` : '';
  return `Verify ${init.operation} failed: ${init.kind}${status}${detail}`;
}

/** Maps an HTTP status that is not 2xx to an error kind. */
export function kindForStatus(status: number): VerifyErrorKind {
  if (status >= 500 && status <= 599) return 'server';
  if (status >= 400 && status <= 499) return 'rejected';
  return 'contract'; // 1xx/3xx (redirects are not followed): not what the spec documents
}

/**
 * Verify's `message` from an error body (`{object: 'error', message}`), truncated, with every
 * given sensitive value replaced. Anything else (HTML of a proxy, plain text) gives undefined.
 */
export function verifyMessageOf(body: unknown, sensitive: readonly string[]): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const message = (body as { message?: unknown }).message;
  if (typeof message !== 'string' || message.length === 0) return undefined;
  let text = redactPersonal(scrub(message, sensitive));
  // strip control characters so the message is safe in one log line
  text = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  if (text.length > VERIFY_MESSAGE_MAX) text = `${text.slice(0, VERIFY_MESSAGE_MAX - 1)}…`;
  return text;
}

/** Replaces every occurrence of the sensitive values (at least 3 characters long) in text. */
export function scrub(text: string, sensitive: readonly string[]): string {
  let out = text;
  const values = [...new Set(sensitive.filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
  for (const value of values) out = out.split(value).join('[redacted]');
  return out;
}

/**
 * Verify echoes request data in some messages ("invalid iban AE07…"): anything that looks
 * like an e-mail address, an IBAN or a long number (account, card, phone) is replaced, so
 * the message can be logged.
 */
export function redactPersonal(text: string): string {
  return text
    .replace(/[^\s@"'<>()]+@[^\s@"'<>()]+\.[A-Za-z]{2,}/g, '[email]')
    .replace(/\b[A-Z]{2}\d{2}[A-Z0-9]{10,30}\b/g, '[iban]')
    .replace(/\d[\d -]{6,}\d/g, '[number]');
}
