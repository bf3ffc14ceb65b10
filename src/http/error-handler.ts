/**
 * Every failure becomes Kasisto's `error_response`, with the right status; nothing internal
 * leaks (no stack trace, no Fastify or Node message that could carry input back).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { KasistoRevision } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { ApiError, toApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The Kasisto revision served (decorated by the connector plugin); error bodies speak it. */
    kasistoRevision?: KasistoRevision;
  }

  interface FastifyContextConfig {
    /** The operation's contract lists 450: a pending one-time password may be asked for. */
    mayAskOtp?: boolean;
  }
}

export const unauthorized = () => new ApiError(401, 'unauthorized', 'The secret header is missing or wrong');
export const internalError = () => new ApiError(500, 'internal_error', 'Something went wrong on our side; the request may be retried');

/**
 * The path the router matched, not the raw request target: an absolute-form target
 * (`POST http://host/api/token`) is routed to /api/token, so judging by request.url
 * would skip the secret check.
 */
export function routedPath(request: FastifyRequest): string {
  return request.routeOptions.url ?? request.url.replace(/^[a-z][a-z\d+.-]*:\/\/[^/]*/i, '');
}

export function sendApiError(reply: FastifyReply, error: ApiError): void {
  // the access line of this answer says why (the message is written for the caller: safe to log)
  reply.apiError = { code: error.code, message: error.message };
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  reply.code(error.statusCode).send(error.bodyFor(reply.server?.kasistoRevision ?? '1.0'));
}

/**
 * A domain failure as this operation's contract allows it: an operation whose contract has
 * no 450 cannot ask for a one-time password, so a pending one is a 403 there.
 */
function fromDomain(error: DomainError, request: FastifyRequest): ApiError {
  if (error.kind === 'otp_required' && !request.routeOptions.config.mayAskOtp) {
    return new ApiError(403, 'forbidden', 'Complete the one-time password step first (/validate_otp)');
  }
  return toApiError(error, request.server.kasistoRevision);
}

export function sendError(error: FastifyError & { errors?: unknown[] }, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof ApiError) return sendApiError(reply, error);
  if (error instanceof DomainError) return sendApiError(reply, fromDomain(error, request));
  // An unknown path is a 404 whatever its body (the secret and rate limit were checked before).
  if (request.is404) return sendNotFound(request, reply);
  if (error.validation) {
    const first = error.validation[0];
    const params = (first?.params ?? {}) as { missingProperty?: string; additionalProperty?: string };
    const path = (first?.instancePath ?? '').split('/').filter(Boolean);
    if (params.missingProperty) path.push(params.missingProperty);
    const field = path.join('.') || (error.validationContext === 'body' ? 'body' : (error.validationContext ?? 'request'));
    const message = params.missingProperty ? 'is required' : (first?.message ?? 'is invalid');
    return sendApiError(reply, new ApiError(400, 'invalid_request', `${field}: ${message}`));
  }
  const status = error.statusCode ?? 500;
  if (status === 413) return sendApiError(reply, new ApiError(413, 'payload_too_large', 'The request body is larger than this server accepts'));
  if (status === 415) return sendApiError(reply, new ApiError(400, 'invalid_request', 'body: Content-Type must be application/json'));
  if (status === 429) return sendApiError(reply, new ApiError(429, 'rate_limited', 'Too many requests; slow down', undefined, 1));
  if (status >= 400 && status < 500) {
    const invalidJson = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY';
    return sendApiError(reply, new ApiError(400, 'invalid_request', invalidJson ? 'body: is not valid JSON, or holds a forbidden __proto__ or constructor.prototype key' : `request: ${String(error.message).slice(0, 200)}`));
  }
  request.log.error({ err: error }, 'request failed');
  return sendApiError(reply, internalError());
}

export function sendNotFound(request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?')[0]!;
  sendApiError(reply, new ApiError(404, 'not_found', `There is no operation ${request.method} ${path.length > 200 ? `${path.slice(0, 200)}…` : path}`));
}

/** Errors raised before routing (bad percent-encoding in the URL) bypass the error handler. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  reply.header('cache-control', 'no-store');
  if (error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendApiError(reply, new ApiError(400, 'invalid_request', 'path: is not a valid URL'));
  return sendApiError(reply, internalError());
}

/**
 * Requests Node's HTTP parser refuses (broken HTTP, headers over 16 KB, too slow) never reach
 * Fastify's error handler: answer them with the same error body, then close.
 */
export function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The request headers are larger than this server accepts']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request did not arrive in time']
        : [400, 'invalid_request', 'request: is not a valid HTTP/1.1 request'];
  this.log.debug({ code: error.code }, 'client error');
  // as Node does: never write into the middle of a response already under way
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify({ code, message });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
