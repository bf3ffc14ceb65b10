/**
 * A deadline for all the Verify calls of one Kasisto request. Kasisto's platform gives up on
 * a conversational turn after 3 s, so a request that has spent its budget stops calling
 * Verify and answers 504 rather than answering after the platform stopped listening. Work
 * already done stays recorded: a movement resumes on the platform's retry.
 * Kept in the request's scope (src/observability/request-scope.ts), beside its logger.
 */
import { requestScope } from '../../observability/request-scope.js';
import type { RequestTrace } from '../../observability/tracing.js';

/** Runs `fn` with every Verify call inside it bounded by `deadline` (performance.now() time). */
export function runWithVerifyDeadline<T>(deadline: number, fn: () => T): T {
  const scope = requestScope.getStore();
  return requestScope.run({ owner: scope?.owner, log: scope?.log, verifyDeadline: deadline, trace: scope?.trace }, fn);
}

/** Counts the current request's Verify calls against `key`'s share of the pool (the customer, once known). */
export function setVerifyKey(key: string): void {
  const scope = requestScope.getStore();
  if (scope) scope.verifyKey = key;
}

/** The current request's scope object (identity only), or undefined outside a request. */
export function currentRequestScope(): object | undefined {
  return requestScope.getStore();
}

/** The current request's customer key for the Verify pool, if any. */
export function currentVerifyKey(): string | undefined {
  return requestScope.getStore()?.verifyKey;
}

/** The current request's deadline, or undefined outside a request (start-up, reconciliation). */
export function currentVerifyDeadline(): number | undefined {
  return requestScope.getStore()?.verifyDeadline;
}

/** The current request's span (tracing on), for its Verify calls' spans; undefined otherwise. */
export function currentRequestTrace(): RequestTrace | undefined {
  return requestScope.getStore()?.trace;
}
