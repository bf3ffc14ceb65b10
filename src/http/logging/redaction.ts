/** What the logger must never write: secrets, tokens, passwords, OTPs, answers, keys. */
import { createRequire } from 'node:module';
import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import type { Config } from '../../config.js';
import { stdoutLines } from './destination.js';

/** Log fields that must never be written, wherever they appear. */
export const REDACTED_PATHS = [
  'req.headers.secret',
  'req.headers.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers.token',
  'headers.secret',
  'headers.token',
  'body.password',
  'body.otp',
  // Kasisto 1.2/1.3 send the /token credentials as meta name/value pairs
  'body.meta',
  'password',
  'otp',
  'secret',
  'token',
  'credentials',
  'challenge_response',
  'answers',
  // one level down too (e.g. an error's or a Verify call's fields)
  '*.password',
  '*.otp',
  '*.secret',
  '*.token',
  '*.credentials',
  '*.challenge_response',
  '*.answers',
  '*.authorization',
  '*.secretKey',
  '*.publicKey',
];

/**
 * Fastify's request serializer, with the path only: no query string is part of any
 * operation, yet a caller may put a secret or token there (`/api/token?secret=…`), and
 * redaction paths cannot reach inside a URL.
 */
export function requestForLog(request: FastifyRequest) {
  const query = request.url.indexOf('?');
  return {
    // the contract's name for what was asked (absent for unknown paths)
    operation: (request.routeOptions?.schema as { operationId?: string } | undefined)?.operationId,
    method: request.method,
    url: query === -1 ? request.url : request.url.slice(0, query),
    version: request.headers?.['accept-version'] as string | undefined,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket ? request.socket.remotePort : undefined,
  };
}

declare module 'fastify' {
  interface FastifyReply {
    /** The error body's code and message, for the access line of a 4xx/5xx (set by sendApiError). */
    apiError?: { code: string; message: string };
  }
}

/** Fastify's response serializer, with the error code and message of a refused request (already safe for the body). */
export function responseForLog(reply: { statusCode: number; apiError?: { code: string; message: string } }) {
  return reply.apiError ? { statusCode: reply.statusCode, code: reply.apiError.code, message: reply.apiError.message } : { statusCode: reply.statusCode };
}

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  const serializers = { req: requestForLog, res: responseForLog };
  // A developer at a terminal reads pino's own pretty printer (a dev dependency: absent from
  // the production image, where logs stay JSON lines for the collector).
  if (config.nodeEnv !== 'production' && process.stdout.isTTY && prettyPrinterInstalled()) {
    return { level: config.logLevel, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, serializers, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } };
  }
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers,
    // stdout, one write per event-loop turn (see destination.ts)
    stream: stdoutLines(),
  };
}

function prettyPrinterInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
