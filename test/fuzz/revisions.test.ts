/**
 * The fuzz suite's two core properties for the later Kasisto revisions (1.0-final, 1.2,
 * 1.3): hostile headers and bodies on every operation, and hostile field values on every
 * signed-in operation, each answer checked against THAT revision's contract made strict
 * (no property the revision does not define), with no 5xx, no leak and no echoed secret.
 * test/fuzz/fuzz.test.ts runs the whole suite (sockets, money, OTP, PostgreSQL) for 1.0;
 * its request shapes are 1.0's, so it is not repeated per revision.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestConnector, TEST_SECRET, type TestConnector } from '../helpers/connector.js';
import { strictKasistoSpec } from '../helpers/kasisto-contract.js';
import { brokenBody, deepText, headerChoice, hugeArrayText, leafText, objectText, PROTO_KEYS, typedValueText, valueText, type HeaderChoice } from './arbitraries.js';
import { checkAnswer, kasistoOperations, type OperationInfo } from './harness.js';

const SCALE = Number(process.env.FUZZ_SCALE ?? '1');
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns: Math.max(1, Math.round(numRuns * SCALE)), ...(SEED === undefined ? {} : { seed: SEED }) });
/** Operations Verify offers nothing for: 501 by design (see the README's revision table). */
const NOT_FULFILLED = new Set(['searchBankLocations', 'listOffers', 'submitCustomerAction', 'recordInteraction']);
const HEADERS_THE_TEST_SETS = new Set(['content-length', 'transfer-encoding', 'host', 'content-type', 'secret', 'token', 'connection', 'expect', 'request_id', 'idempotency-key', 'date']);

describe.each(['1.0-final', '1.2', '1.3'] as const)('Kasisto %s under hostile input', (revision) => {
  const spec = strictKasistoSpec(revision);
  const operations = kasistoOperations(spec);
  const authenticated = operations.filter((o) => o.needsToken);
  const headersRequired = revision !== '1.0-final';
  let c: TestConnector;
  let userId: string;
  let token: string;

  beforeAll(async () => {
    c = await startTestConnector({ KASISTO_API_REVISION: revision, RATE_LIMIT_PER_TOKEN: '1000000', RATE_LIMIT_PER_ADDRESS: '1000000', ACCOUNTS_CACHE_SECONDS: '3600', TOKEN_IDLE_TTL_SECONDS: '3600' });
    const credentials = headersRequired ? { meta: [{ name: 'username', value: 'test' }, { name: 'password', value: 'test_pass' }] } : { username: 'test', password: 'test_pass' };
    const res = await c.call('token', credentials, headersRequired ? { date: new Date().toUTCString(), request_id: 'fuzz-sign-in' } : {});
    expect(res.statusCode, res.body).toBe(200);
    ({ user_id: userId, token } = res.json());
  });
  afterAll(async () => {
    await c?.close();
  });

  function headersOf(choice: HeaderChoice, withToken: string | undefined, withDate: boolean): Record<string, string | string[]> {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of choice.extra) if (!HEADERS_THE_TEST_SETS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
    if (choice.contentType !== undefined) headers['content-type'] = choice.contentType;
    if (choice.requestId !== undefined) headers['request_id'] = choice.requestId;
    if (choice.idempotencyKey !== undefined) headers['idempotency-key'] = choice.idempotencyKey;
    if (withDate) headers.date = new Date().toUTCString();
    const secret = { valid: TEST_SECRET, missing: undefined, wrong: 'wrong-secret-0123456789', padded: `${TEST_SECRET}\t`, duplicate: [TEST_SECRET, TEST_SECRET] }[choice.secret];
    if (secret !== undefined) headers.secret = secret;
    if (withToken !== undefined) {
      const t = { valid: withToken, missing: undefined, random: randomBytes(32).toString('base64url'), long: 'x'.repeat(600), duplicate: [withToken, withToken], padded: `${withToken}x` }[choice.token];
      if (t !== undefined) headers.token = t;
    }
    return headers;
  }

  async function send(operation: OperationInfo, options: InjectOptions) {
    const res = await c.app.inject(options);
    checkAnswer(res, { operation, secrets: [TEST_SECRET, token], spec, expected5xx: NOT_FULFILLED.has(operation.operationId) ? [501] : [] });
    return res;
  }

  /** One of the spec's examples with one or two fields made hostile or removed, sometimes random fields. */
  function shapedBody(op: OperationInfo): fc.Arbitrary<string> {
    const others = op.properties.filter((p) => p !== 'user_id');
    const field = fc.constantFrom(...(others.length > 0 ? others : ['user_id']));
    const typed = (name: string) => fc.tuple(fc.constant(name), typedValueText(op.schemas[name]));
    const user = fc.oneof({ weight: 6, arbitrary: fc.constant(null).map(() => JSON.stringify(userId)) }, { weight: 1, arbitrary: fc.constantFrom('"usr_000000000000000000000000"', '""', 'null', '1') });
    const mutated = fc
      .tuple(fc.constantFrom(...op.examples), user, fc.boolean(), fc.array(field.chain(typed), { minLength: others.length > 0 ? 1 : 0, maxLength: 2 }), fc.array(field, { maxLength: 1 }), fc.array(fc.tuple(fc.constantFrom(...PROTO_KEYS, 'meta', 'extra'), leafText), { maxLength: 1 }))
      .map(([example, uid, withUser, changes, removals, extras]) => {
        const entries = new Map<string, string>(Object.entries(example).map(([k, v]) => [k, JSON.stringify(v)]));
        entries.delete('user_id');
        if (withUser) entries.set('user_id', uid);
        for (const [k, v] of changes) entries.set(k, v);
        for (const k of removals) entries.delete(k);
        return objectText([...entries, ...extras]);
      });
    return mutated;
  }

  it('answers the revision\'s error body for anything, and 401 first without the secret', async () => {
    const body = fc.oneof(brokenBody, valueText, deepText, hugeArrayText);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...operations), headerChoice({ mostlyValid: false }), fc.boolean(), fc.option(body, { nil: undefined, freq: 10 }), async (operation, choice, withDate, payload) => {
        const res = await send(operation, { method: 'POST', url: `/api${operation.path}`, headers: headersOf(choice, operation.needsToken ? token : undefined, withDate), ...(payload === undefined ? {} : { payload }) });
        if (choice.secret !== 'valid') expect(res.statusCode).toBe(401);
        else if (headersRequired && (!withDate || choice.requestId === undefined || choice.requestId === '')) expect(res.statusCode).toBe(400);
      }),
      params(400),
    );
  });

  it('keeps every signed-in operation to documented answers for hostile field values', async () => {
    const cases = fc.constantFrom(...authenticated).chain((operation) => fc.tuple(fc.constant(operation), headerChoice({ mostlyValid: true }), shapedBody(operation)));
    await fc.assert(
      fc.asyncProperty(cases, async ([operation, choice, payload]) => {
        const headers = headersOf(choice, token, true);
        if (headersRequired && choice.requestId === undefined) headers.request_id = randomBytes(8).toString('hex');
        await send(operation, { method: 'POST', url: `/api${operation.path}`, headers, payload });
      }),
      params(500),
    );
  });
});
