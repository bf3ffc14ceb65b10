import type { FastifyRequest } from 'fastify';
import type { Caller } from '../domain/sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the `token` security handler for every operation but /token. */
    caller?: Caller;
  }
}

export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error('token security handler did not run');
  return request.caller;
}
