/**
 * Errors of the Verify sandbox. Verify documents no error codes; its clients read a JSON
 * body `{ object: "error", message }` (spec/verify.yaml `#/components/schemas/error`).
 * Every error the sandbox answers, including Fastify's own (validation, 404, 415, 413…),
 * is turned into that body by `toErrorReply`.
 */
import type { ErrorBody } from './types.js';

/** An error the sandbox answers on purpose, with its HTTP status. */
export class SandboxError extends Error {
  readonly statusCode: number;

  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'SandboxError';
    this.statusCode = statusCode;
  }
}

export const badRequest = (message: string) => new SandboxError(400, message);
export const notFound = (message: string) => new SandboxError(404, message);
export const unprocessable = (message: string) => new SandboxError(422, message);

export const GENERIC_MESSAGES: Readonly<Record<number, string>> = {
  400: 'The request is malformed.',
  401: 'Invalid API key provided',
  403: 'This endpoint requires a different key',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Request body is too large',
  415: 'Unsupported media type',
  422: 'The request cannot be processed in the current state',
  429: 'Too many requests',
  500: 'An unexpected error occurred. Please try again later.',
  502: 'Bad gateway. Please try again later.',
  503: 'The bank is temporarily unavailable. Please try again later.',
  504: 'The bank did not answer in time. Please try again later.',
};

export function errorBody(message: string): ErrorBody {
  return { object: 'error', message };
}

export function genericMessage(status: number): string {
  return GENERIC_MESSAGES[status] ?? (status >= 500 ? GENERIC_MESSAGES[500]! : `Request failed with status ${status}`);
}

interface AjvLikeError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/credentials/login` → `credentials[login]` (Verify's form notation), `/answers/0` → `answers[0]`. */
function fieldName(instancePath: string, extra?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  const [first, ...rest] = parts;
  return (first ?? '') + rest.map((p) => `[${p}]`).join('');
}

/** One readable sentence naming the field, e.g. "amount must be an integer", "credentials[login] is missing". */
export function validationMessage(errors: readonly AjvLikeError[], context: string | undefined): string {
  const error = errors[0];
  if (!error) return context ? `${context} is invalid` : 'The request is invalid';
  const missing = error.keyword === 'required' ? String(error.params['missingProperty'] ?? '') : undefined;
  let field = fieldName(error.instancePath, missing);
  if (field === '') field = context === 'params' ? 'path' : (context ?? 'body');
  switch (error.keyword) {
    case 'required':
      return `${field} is missing`;
    case 'type':
      return `${field} must be ${error.params['type'] === 'integer' ? 'an integer' : `of type ${String(error.params['type'])}`}`;
    case 'minimum':
      return `${field} must be greater than or equal to ${String(error.params['limit'])}`;
    case 'pattern':
    case 'format':
    case 'enum':
    case 'const':
      return `${field} is invalid`;
    default:
      return `${field} ${error.message ?? 'is invalid'}`;
  }
}

interface ErrorLike {
  statusCode?: number;
  message?: string;
  code?: string;
  name?: string;
  validation?: AjvLikeError[];
  validationContext?: string;
  errors?: unknown;
}

/** Status and message for any error reaching the error handler. */
export function toErrorReply(err: unknown): { status: number; body: ErrorBody } {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as ErrorLike;
  if (Array.isArray(e.validation)) {
    return { status: 400, body: errorBody(validationMessage(e.validation, e.validationContext)) };
  }
  // fastify-openapi-glue wraps what the security handlers threw in a SecurityError
  // (name "Unauthorized", `errors` = one error per scheme tried, statusCode = the last
  // one given). Answer the message of the error that decided the status.
  if (e.name === 'Unauthorized' && Array.isArray(e.errors)) {
    const status = typeof e.statusCode === 'number' ? e.statusCode : 401;
    const inner = (e.errors as ErrorLike[]).filter((x) => x && typeof x.message === 'string');
    const decisive = inner.filter((x) => x.statusCode === status).at(-1) ?? inner.at(-1);
    return { status, body: errorBody(decisive?.message ?? genericMessage(status)) };
  }
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode <= 599 ? e.statusCode : 500;
  if (status >= 500 && !(err instanceof SandboxError)) {
    return { status, body: errorBody(genericMessage(status)) };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status, body: errorBody('Unsupported Content-Type: send application/json or application/x-www-form-urlencoded') };
  }
  return { status, body: errorBody(e.message && e.message.length > 0 ? e.message : genericMessage(status)) };
}
