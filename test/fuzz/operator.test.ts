/**
 * The operator API under hostile input, lightly: random paths under /operator/v1, random
 * methods, keys and bodies never give a 5xx, and every error is `{code, message}` (strings,
 * nothing else). Replay a failure with FUZZ_SEED=<seed>; FUZZ_SCALE multiplies the runs.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestConnector, type TestConnector } from '../helpers/connector.js';

const SCALE = Number(process.env.FUZZ_SCALE ?? '1');
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = (n: number): fc.Parameters<unknown> => ({ numRuns: Math.max(1, Math.round(n * SCALE)), ...(SEED === undefined ? {} : { seed: SEED }) });
const KEYS = { settler: 'fuzz-settler-key-0123456789', viewer: 'fuzz-viewer-key-0123456789a' };

const PATHS = [
  '/summary', '/customers/pseudonym', '/movements', '/movements/{id}', '/obligations', '/obligations/{id}/returned', '/batches', '/batches/{id}',
  '/batches/{id}/csv', '/batches/{id}/pain001', '/batches/{id}/paid', '/reconciliations', '/reconciliations/{id}', '/reconciliations/{id}/csv', '/audit',
];
const segment = fc.oneof(fc.constantFrom('bt-00', 'ob-00', 'mv_1', '2026-11-30', '2026-02-30', '..', '%00', '%E0%A4%A', 'x'.repeat(300), "'; drop table x"), fc.string({ maxLength: 40 }).map(encodeURIComponent));
const query = fc.dictionary(fc.constantFrom('limit', 'cursor', 'state', 'status', 'currency', 'username', 'user_id', 'from', 'to', 'batch_id', 'action', 'actor', 'bank_id'), fc.oneof(fc.string({ maxLength: 30 }), fc.integer().map(String), fc.constantFrom('0', '501', '-1', 'due', 'processed', '2026-11-30T00:00:00Z', 'au-1', 'au-x')), { maxKeys: 4 });
const json = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.record({ currency: fc.oneof(fc.string({ maxLength: 5 }), fc.constant('AED')), obligation_ids: fc.array(fc.string({ maxLength: 40 }), { maxLength: 5 }), bank_reference: fc.string({ maxLength: 50 }), reason: fc.string({ maxLength: 600 }), date: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('2026-11-30', '2999-01-01', '2026-02-30')) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 100 }),
  fc.constantFrom('{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', '[]', 'null', ''),
);
const key = fc.oneof(fc.constantFrom(KEYS.settler, KEYS.viewer), fc.string({ maxLength: 40 }), fc.constant(undefined));

describe('operator API fuzz', () => {
  let c: TestConnector;
  beforeAll(async () => {
    c = await startTestConnector({ OPERATOR_PORT: '0', OPERATOR_API_KEYS: `f1:settler:${KEYS.settler},f2:viewer:${KEYS.viewer}` }, { dailyReconcileCheckMs: 0 });
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  it('random paths, methods, keys and bodies: never 5xx, errors always {code, message}', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PATHS), segment, query, fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), key, fc.option(json), fc.constantFrom('application/json', 'text/plain', 'application/xml'), async (path, seg, q, method, k, body, type) => {
        const url = `/operator/v1${path.replace('{id}', seg)}?${new URLSearchParams(q).toString()}`;
        const res = await c.operatorApp!.inject({
          method: method as 'GET',
          url,
          headers: { ...(k === undefined ? {} : { authorization: `Bearer ${k}` }), ...(body === null ? {} : { 'content-type': type }) },
          ...(body === null || method === 'GET' ? {} : { payload: body }),
        });
        expect(res.statusCode, `${method} ${url} ${body}`).toBeLessThan(500);
        if (res.statusCode >= 400) {
          const answer = res.json();
          expect(Object.keys(answer).sort()).toEqual(['code', 'message']);
          expect(typeof answer.code).toBe('string');
          expect(typeof answer.message).toBe('string');
        }
      }),
      params(400),
    );
  }, 120_000);
});
