/**
 * What one request carries through its asynchronous calls: the logger that has its
 * request_id bound (for the domain's log lines) and the deadline of its Verify calls.
 * One AsyncLocalStorage for both: on Node 20 every enabled AsyncLocalStorage adds work to
 * every promise the process creates, so two of them cost twice.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyBaseLogger } from 'fastify';
import type { RequestTrace } from './tracing.js';

export interface RequestScope {
  /** Whose request it is (a RequestContext): another app's domain code in the same process keeps its own logger. */
  readonly owner: object | undefined;
  readonly log: FastifyBaseLogger | undefined;
  /** performance.now() time by which every Verify call of the request must be done. */
  readonly verifyDeadline: number | undefined;
  /** Whose Verify calls these are, for the per-customer share of the Verify pool (the customer's user_id, set once the token is checked); undefined: not capped. */
  verifyKey?: string | undefined;
  /** The request's span (tracing.ts), set in onRequest when tracing is on: its Verify calls become its children. */
  trace?: RequestTrace | undefined;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();
