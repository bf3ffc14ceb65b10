/** What the logger must never write: secrets, tokens, passwords, OTPs, answers, keys. */
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
    method: request.method,
    url: query === -1 ? request.url : request.url.slice(0, query),
    version: request.headers?.['accept-version'] as string | undefined,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket ? request.socket.remotePort : undefined,
  };
}

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { req: requestForLog },
    // stdout, one write per event-loop turn (see destination.ts)
    stream: stdoutLines(),
  };
}
