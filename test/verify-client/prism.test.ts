/**
 * The Verify client against Prism's mock of spec/verify.yaml: every documented status of
 * every operation maps to the right typed result or VerifyError, and only calls that are
 * safe to repeat are retried.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifyError } from '../../src/adapters/verify/errors.js';
import type { VerifyCallEvent, VerifyClient } from '../../src/adapters/verify/client.js';
import { startPrism, type PrismServer } from '../helpers/prism.js';
import { BA, SES, TR, VRF, deref, failure, spec, testClient, type Loose } from './helpers.js';

const RETRIES = 2;

/** How each operation of the spec is called through the client. */
const CALLS: Record<string, (c: VerifyClient) => Promise<unknown>> = {
  listBanks: (c) => c.listBanks(),
  createSession: (c) => c.createSession({ currency: 'AED', amount: 1000, description: 'Order 42' }),
  getSession: (c) => c.getSession(SES),
  loginSession: (c) => c.login(SES, { credentials: { login: 'test', password: 'pw-secret' } }),
  listBankAccounts: (c) => c.listBankAccounts(SES),
  createTransfer: (c) => c.createTransfer(SES, { source: BA }),
  listSessionTransfers: (c) => c.listSessionTransfers(SES),
  getSessionTransfer: (c) => c.getSessionTransfer(SES, TR),
  getTransfer: (c) => c.getTransfer(TR),
  submitSessionVerification: (c) => c.submitVerification({ type: 'session', sessionId: SES }, VRF, { challenge_response: '1234' }),
  submitTransferVerification: (c) => c.submitVerification({ type: 'transfer', transferId: TR }, VRF, { answers: ['ruby', 'vim'] }),
};
/** Sent at most once, whatever happens. */
const NOT_REPEATABLE = new Set(['createSession', 'loginSession', 'createTransfer']);

interface SpecOperation {
  operationId: string;
  method: string;
  responses: Record<string, Loose>;
}

const OPERATIONS: SpecOperation[] = Object.values(spec.paths as Record<string, Record<string, Loose>>).flatMap((item) =>
  ['get', 'put', 'post', 'delete', 'patch']
    .filter((m) => item[m])
    .map((m) => ({ operationId: item[m].operationId as string, method: m, responses: item[m].responses })),
);

let prism: PrismServer;
let client: VerifyClient;
let events: VerifyCallEvent[];
let prefer: string | undefined;

beforeAll(async () => {
  prism = await startPrism('spec/verify.yaml');
  ({ client, events } = testClient(prism.url, {
    retries: RETRIES,
    timeoutMs: 5_000,
    headers: () => (prefer ? { Prefer: prefer } : undefined),
  }));
});

afterAll(async () => {
  await client?.close();
  await prism?.stop();
});

async function run(operationId: string, preferHeader: string): Promise<{ result?: unknown; error?: Loose; calls: VerifyCallEvent[] }> {
  const call = CALLS[operationId];
  if (!call) throw new Error(`no call for ${operationId}`);
  prefer = preferHeader;
  events.length = 0;
  try {
    const result = await call(client);
    return { result, calls: [...events] };
  } catch (error) {
    return { error, calls: [...events] };
  } finally {
    prefer = undefined;
  }
}

describe('Verify client against Prism', () => {
  it('has a call for every operation of the spec, and retries exactly the safe ones', () => {
    expect(Object.keys(CALLS).sort()).toEqual(OPERATIONS.map((o) => o.operationId).sort());
    for (const op of OPERATIONS) {
      const safe = op.method === 'get' || op.method === 'put';
      expect(NOT_REPEATABLE.has(op.operationId)).toBe(!safe);
    }
  });

  for (const op of OPERATIONS) {
    describe(op.operationId, () => {
      const ok = deref(op.responses['200']);
      const examples = Object.entries((ok.content['application/json'].examples ?? {}) as Record<string, Loose>);
      it.each(examples.map(([name, ex]) => [name, deref(ex).value]))('200 example %s → typed data', async (name, value) => {
        const { result, error, calls } = await run(op.operationId, `example=${name}`);
        expect(error).toBeUndefined();
        expect(result).toEqual(value);
        expect(calls).toEqual([expect.objectContaining({ operation: op.operationId, outcome: 'ok', status: 200 })]);
      });

      const errorStatuses = Object.keys(op.responses).filter((s) => s !== '200');
      it.each(errorStatuses)('%s → VerifyError', async (status) => {
        const code = Number(status);
        const documented = deref(op.responses[status]);
        const firstExample = deref(Object.values(documented.content['application/json'].examples)[0]).value;
        const { result, error, calls } = await run(op.operationId, `code=${status}`);
        expect(result).toBeUndefined();
        expect(error).toBeInstanceOf(VerifyError);
        const kind = code >= 500 ? 'server' : 'rejected';
        expect(error).toMatchObject({ kind, status: code, operation: op.operationId, verifyMessage: firstExample.message });
        expect(error.message).toBe(`Verify ${op.operationId} failed: ${kind} (HTTP ${code})`);

        // retried only when safe to repeat and only on 502/503/504
        const retried = !NOT_REPEATABLE.has(op.operationId) && [502, 503, 504].includes(code);
        expect(calls).toHaveLength(retried ? RETRIES + 1 : 1);
        expect(error.attempts).toBe(calls.length);
        for (const c of calls) expect(c).toMatchObject({ operation: op.operationId, outcome: kind, status: code });
      });
    });
  }

  it('sends createSession, login and createTransfer exactly once on 503 (and retries a GET and a PUT)', async () => {
    for (const id of ['createSession', 'loginSession', 'createTransfer']) {
      const { error, calls } = await run(id, 'code=503');
      expect(error).toMatchObject({ kind: 'server', status: 503 });
      expect(calls).toHaveLength(1);
    }
    for (const id of ['getTransfer', 'submitTransferVerification']) {
      const { calls } = await run(id, 'code=503');
      expect(calls).toHaveLength(RETRIES + 1);
    }
  });

  it('refuses malformed ids without sending anything', async () => {
    events.length = 0;
    const error = await failure(client.getSession('ses_../../banks'));
    expect(error).toBeInstanceOf(VerifyError);
    expect(error).toMatchObject({ kind: 'rejected', operation: 'getSession', attempts: 0 });
    expect(error.status).toBeUndefined();
    expect(events).toHaveLength(0);
  });
});
