/**
 * Checks a sandbox answer against spec/verify.yaml's response schema for an operation
 * and status, by operationId. A thin adapter over the team's test/helpers/spec.ts (Ajv
 * 2020 + ajv-formats over the whole document), which looks operations up by path+method.
 * A status the operation does not document is a failure too.
 */
import { loadSpec, type Operation } from '../helpers/spec.js';

const verify = loadSpec('verify');

function operation(operationId: string): Operation {
  const op = verify.operations().find((o) => o.operationId === operationId);
  if (!op) throw new Error(`spec/verify.yaml has no operation ${operationId}`);
  return op;
}

/** Undefined when the body fits the spec's schema for operation + status; else the violations. */
export function specViolations(operationId: string, status: number, body: unknown): string | undefined {
  const op = operation(operationId);
  const result = verify.validateResponse(op.path, op.method, status, body);
  return result.valid ? undefined : result.message;
}

/** Throws unless the body fits the spec's schema for operation + status. */
export function assertMatchesSpec(operationId: string, status: number, body: unknown): void {
  const op = operation(operationId);
  verify.assertResponse(op.path, op.method, status, body);
}
