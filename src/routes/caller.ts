import type { FastifyRequest } from 'fastify';
import type { Caller } from '../domain/sessions.js';

/** The customer the token check (src/http/auth.ts) authenticated for this request. */
export function callerOf(request: FastifyRequest): Caller {
  // fails closed: a route the token check missed answers 500, never runs without a customer
  if (!request.caller) throw new Error('the token check did not run for this route');
  return request.caller;
}
