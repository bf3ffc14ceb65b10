/**
 * The sandbox's control endpoint, for tests and demos driving a sandbox in another
 * process (only when `controlEndpoint: true` / SANDBOX_CONTROL=true; absent, these URLs
 * answer 404). No authentication: bind the sandbox to 127.0.0.1.
 *
 *   PUT    /__sandbox/faults/:operationId   JSON fault (see faults.ts); '*' = every operation
 *   GET    /__sandbox/faults                the faults in force
 *   DELETE /__sandbox/faults                clear all faults
 *   DELETE /__sandbox/faults/:operationId   clear one
 *   GET    /__sandbox/stats                 { total, calls: { operationId: n } }
 *   GET    /__sandbox/debits                per login that moved money: debits, total, balances
 *   POST   /__sandbox/reset                 state, stats and faults back to a fresh start
 */
import type { Sandbox } from './app.js';
import { SandboxError } from './errors.js';
import { isFaultTarget, parseFault, type FaultTarget } from './faults.js';

export const CONTROL_PREFIX = '/__sandbox';

function target(value: string): FaultTarget {
  if (!isFaultTarget(value)) throw new SandboxError(404, `No such operationId: ${value}`);
  return value;
}

export function registerControlRoutes(sandbox: Sandbox): void {
  const { app, faults, stats } = sandbox;

  app.put<{ Params: { operationId: string } }>(`${CONTROL_PREFIX}/faults/:operationId`, async (request) => {
    const operationId = target(request.params.operationId);
    try {
      faults.set(operationId, parseFault(request.body));
    } catch (error) {
      throw new SandboxError(400, `Invalid fault: ${(error as Error).message}`);
    }
    return { operationId, fault: faults.get(operationId) };
  });

  app.get(`${CONTROL_PREFIX}/faults`, async () => ({ faults: faults.list() }));

  app.delete(`${CONTROL_PREFIX}/faults`, async () => {
    faults.clear();
    return { faults: faults.list() };
  });

  app.delete<{ Params: { operationId: string } }>(`${CONTROL_PREFIX}/faults/:operationId`, async (request) => {
    faults.clear(target(request.params.operationId));
    return { faults: faults.list() };
  });

  app.get(`${CONTROL_PREFIX}/stats`, async () => stats.snapshot());

  app.get(`${CONTROL_PREFIX}/debits`, async () => sandbox.state.debits());

  app.post(`${CONTROL_PREFIX}/reset`, async (_request, reply) => {
    sandbox.reset();
    return reply.code(204).send();
  });
}
