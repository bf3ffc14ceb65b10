/** What the logger must never write: secrets, tokens, passwords, OTPs, answers, keys. */
import type { FastifyServerOptions } from 'fastify';
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

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // stdout, one write per event-loop turn (see destination.ts)
    stream: stdoutLines(),
  };
}
