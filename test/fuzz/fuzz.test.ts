/**
 * Property-based fuzzing of every Kasisto operation: thousands of hostile headers and
 * bodies through `app.inject`, and a few raw-socket cases that inject cannot express.
 * Every answer must be a documented status with the spec's body (see harness.ts), and
 * rejected input must change nothing. On failure fast-check prints the seed and path;
 * replay with FUZZ_SEED=<seed>. FUZZ_SCALE multiplies the number of runs.
 *
 * One file on purpose: the figures in .results/fuzz.json come from one process.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { startTestConnector, TEST_SECRET, type TestConnector } from '../helpers/connector.js';
import { createDatabase, postgresRequired, testPostgresUrl } from '../helpers/postgres.js';
import {
  anyNumber,
  anyString,
  brokenBody,
  deepText,
  headerChoice,
  headerValue,
  hugeArrayText,
  leafText,
  NASTY_NUMBER_TEXT,
  objectText,
  PROTO_KEYS,
  typedValueText,
  valueText,
  type HeaderChoice,
} from './arbitraries.js';
import { toMinorUnits } from '../../src/domain/money.js';
import { checkAnswer, kasistoOperations, Tally, type OperationInfo } from './harness.js';
import { socketCases } from './socket.js';

const SCALE = Number(process.env.FUZZ_SCALE ?? '1');
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns: runs(numRuns), ...(SEED === undefined ? {} : { seed: SEED }) });

const BASE = '/api';
const OPERATIONS = kasistoOperations();
const byId = (id: string) => OPERATIONS.find((o) => o.operationId === id)!;
const AUTHENTICATED = OPERATIONS.filter((o) => o.needsToken);
const HEADERS_THE_TEST_SETS = new Set(['content-length', 'transfer-encoding', 'host', 'content-type', 'secret', 'token', 'connection', 'expect', 'request_id', 'idempotency-key']);

const tally = new Tally();
let c: TestConnector;
let userId: string;
let token: string;
let accountIds: string[];
const prototypeKeysBefore = {
  object: Object.getOwnPropertyNames(Object.prototype).sort(),
  array: Object.getOwnPropertyNames(Array.prototype).sort(),
  function: Object.getOwnPropertyNames(Function.prototype).sort(),
};

beforeAll(async () => {
  c = await startTestConnector({
    // the fuzzer is one very busy client: rate limits are another suite's business
    RATE_LIMIT_PER_TOKEN: '1000000',
    RATE_LIMIT_PER_ADDRESS: '1000000',
    ACCOUNTS_CACHE_SECONDS: '3600',
    TOKEN_IDLE_TTL_SECONDS: '3600',
  });
  ({ userId, token } = await c.signIn('test'));
  const accounts = await c.call('accounts', { user_id: userId }, { token });
  accountIds = (accounts.json() as { account_id: string }[]).map((a) => a.account_id);
  expect(accountIds).toHaveLength(3);
});

afterAll(async () => {
  tally.write();
  await c?.close();
});

function headersOf(choice: HeaderChoice, withToken: string | undefined): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of choice.extra) if (!HEADERS_THE_TEST_SETS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
  if (choice.contentType !== undefined) headers['content-type'] = choice.contentType;
  if (choice.requestId !== undefined) headers['request_id'] = choice.requestId;
  if (choice.idempotencyKey !== undefined) headers['idempotency-key'] = choice.idempotencyKey;
  const secret = { valid: TEST_SECRET, missing: undefined, wrong: 'wrong-secret-0123456789', padded: `${TEST_SECRET}\t`, duplicate: [TEST_SECRET, TEST_SECRET] }[choice.secret];
  if (secret !== undefined) headers.secret = secret;
  if (withToken !== undefined) {
    const t = { valid: withToken, missing: undefined, random: randomBytes(32).toString('base64url'), long: 'x'.repeat(600), duplicate: [withToken, withToken], padded: `${withToken}x` }[choice.token];
    if (t !== undefined) headers.token = t;
  }
  return headers;
}

const tooLarge = (payload: string) => Buffer.byteLength(payload) > c.config.bodyLimitBytes;

function isBadUrl(url: string): boolean {
  try {
    decodeURIComponent(url.split('?')[0]!);
    return false;
  } catch {
    return true;
  }
}

function resolvedPath(url: string): string {
  try {
    return new URL(url, 'http://localhost').pathname;
  } catch {
    return url.split(/[?#]/)[0]!;
  }
}

async function send(operation: OperationInfo | undefined, label: string, options: InjectOptions, otherSecrets: string[] = [], target: TestConnector = c) {
  const res = await target.app.inject(options);
  tally.count(label, res.statusCode);
  checkAnswer(res, { operation, secrets: [TEST_SECRET, token, ...otherSecrets], badUrl: isBadUrl(String(options.url)) });
  return res;
}

/**
 * A body shaped like the operation's, holding hostile values: mostly one of the spec's
 * examples (with the caller's user_id) with one or two fields made hostile or removed, so
 * the rest gets past validation and the hostile value reaches the domain code and the store;
 * sometimes random fields of any type and prototype keys.
 */
function shapedBody(op: OperationInfo, ownUserId: () => string): fc.Arbitrary<string> {
  const others = op.properties.filter((p) => p !== 'user_id');
  const field = fc.constantFrom(...(others.length > 0 ? others : ['user_id']));
  const typed = (name: string) => fc.tuple(fc.constant(name), typedValueText(op.schemas[name]));
  const user = fc.oneof(
    { weight: 6, arbitrary: fc.constant(null).map(() => JSON.stringify(ownUserId())) },
    { weight: 1, arbitrary: fc.constantFrom('"usr_000000000000000000000000"', '""', 'null', '1', '["x"]') },
    { weight: 1, arbitrary: typedValueText(op.schemas['user_id']) },
  );
  const mutated = fc
    .tuple(
      fc.constantFrom(...op.examples),
      user,
      fc.boolean(),
      fc.array(field.chain(typed), { minLength: others.length > 0 ? 1 : 0, maxLength: 2 }),
      fc.array(field, { maxLength: 1 }),
      fc.array(fc.tuple(fc.constantFrom(...PROTO_KEYS, 'meta', 'extra'), leafText), { maxLength: 1 }),
    )
    .map(([example, userId, withUser, changes, removals, extras]) => {
      const entries = new Map<string, string>(Object.entries(example).map(([k, v]) => [k, JSON.stringify(v)]));
      entries.delete('user_id');
      if (withUser) entries.set('user_id', userId);
      for (const [k, v] of changes) entries.set(k, v);
      for (const k of removals) entries.delete(k);
      return objectText([...entries, ...extras]);
    });
  const random = fc
    .tuple(fc.array(fc.oneof(fc.constantFrom(...op.properties).chain(typed), fc.tuple(fc.constantFrom(...op.properties, ...PROTO_KEYS, 'meta', 'extra'), valueText)), { maxLength: 6 }), user)
    .map(([entries, userId]) => objectText([['user_id', userId], ...entries]));
  return fc.oneof({ weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: random });
}

describe('every operation under hostile headers and bodies (inject)', () => {
  it('answers the spec error body for anything, and 401 first without the secret', async () => {
    const op = fc.constantFrom(...OPERATIONS);
    const body = fc.oneof(brokenBody, valueText, deepText, hugeArrayText);
    await fc.assert(
      fc.asyncProperty(op, headerChoice({ mostlyValid: false }), fc.option(body, { nil: undefined, freq: 10 }), async (operation, choice, payload) => {
        const res = await send(operation, operation.operationId, {
          method: 'POST',
          url: `${BASE}${operation.path}`,
          headers: headersOf(choice, operation.needsToken ? token : undefined),
          ...(payload === undefined ? {} : { payload }),
        });
        if (choice.secret !== 'valid') expect(res.statusCode).toBe(401);
      }),
      params(1500),
    );
  });

  it('keeps every signed-in operation to documented answers for hostile field values', async () => {
    const cases = fc.constantFrom(...AUTHENTICATED).chain((operation) =>
      fc.tuple(fc.constant(operation), headerChoice({ mostlyValid: true }), shapedBody(operation, () => userId)),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ([operation, choice, payload]) => {
        await send(operation, operation.operationId, {
          method: 'POST',
          url: `${BASE}${operation.path}`,
          headers: headersOf(choice, token),
          payload,
        });
      }),
      params(1800),
    );
  });

  it('refuses /token credentials that are not strings or not sensible without a 5xx', async () => {
    const operation = byId('createToken');
    const credential = fc.oneof({ weight: 3, arbitrary: anyString.map((s) => JSON.stringify(s)) }, { weight: 1, arbitrary: leafText }, { weight: 1, arbitrary: fc.constant('"test"') });
    await fc.assert(
      fc.asyncProperty(fc.option(credential, { nil: undefined, freq: 8 }), fc.option(credential, { nil: undefined, freq: 8 }), async (username, password) => {
        const entries: [string, string][] = [];
        if (username !== undefined) entries.push(['username', username]);
        if (password !== undefined) entries.push(['password', password]);
        const payload = objectText(entries);
        const res = await send(operation, operation.operationId, {
          method: 'POST',
          url: `${BASE}/token`,
          headers: { secret: TEST_SECRET, 'content-type': 'application/json' },
          payload,
        });
        expect(tooLarge(payload) ? [413] : [400, 403]).toContain(res.statusCode);
      }),
      params(400),
    );
  });

  it('keeps unknown paths, other methods and odd URLs to 401/404 with the error body', async () => {
    const known = OPERATIONS.map((o) => o.path);
    const segment = fc.oneof(
      fc.constantFrom(...known.map((p) => p.slice(1)), 'balance', '..', '.', '%2e%2e', '%00', '%ff', '__proto__', 'constructor', 'prototype', '', 'token%2f', 'TOKEN', 'a'.repeat(2000)),
      fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_~.'), maxLength: 20 }),
    );
    const url = fc
      .tuple(fc.constantFrom(BASE, BASE, '', '/API', '/api/', '//api', '/api/v1'), fc.array(segment, { minLength: 0, maxLength: 3 }), fc.option(fc.constantFrom('?a=1', '?__proto__[x]=1', '?constructor.prototype.x=1', '?', '#frag', '?a=%zz'), { nil: '' }))
      .map(([base, segments, query]) => `${base}/${segments.join('/')}${query}`);
    const method = fc.constantFrom('POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS');
    await fc.assert(
      fc.asyncProperty(method, url, fc.boolean(), fc.option(valueText, { nil: undefined }), async (m, u, withSecret, payload) => {
        // inject resolves dot segments as a client would
        const pathOnly = isBadUrl(u) ? u.split(/[?#]/)[0]! : resolvedPath(u);
        const operation = m === 'POST' && pathOnly.startsWith(`${BASE}/`) ? OPERATIONS.find((o) => `${BASE}${o.path}` === pathOnly) : undefined;
        const res = await send(operation, operation?.operationId ?? 'unknownPath', {
          method: m as InjectOptions['method'],
          url: u,
          headers: { 'content-type': 'application/json', ...(withSecret ? { secret: TEST_SECRET, token } : {}) },
          ...(payload === undefined || m === 'GET' ? {} : { payload }),
        });
        if (!operation && pathOnly.startsWith(`${BASE}/`) && !withSecret && !isBadUrl(u)) expect(res.statusCode).toBe(401);
      }),
      params(500),
    );
  });
});

describe('concurrency and credentials', () => {
  it('keeps to documented answers when hostile calls arrive all at once', async () => {
    const one = fc.constantFrom(...AUTHENTICATED).chain((operation) => fc.tuple(fc.constant(operation), shapedBody(operation, () => userId)));
    await fc.assert(
      fc.asyncProperty(fc.array(one, { minLength: 10, maxLength: 30 }), async (batch) => {
        await Promise.all(
          batch.map(([operation, payload]) =>
            send(operation, operation.operationId, { method: 'POST', url: `${BASE}${operation.path}`, headers: { secret: TEST_SECRET, token, 'content-type': 'application/json' }, payload }),
          ),
        );
      }),
      params(40),
    );
  });

  it('refuses credentials that are not valid Unicode before asking the bank', async () => {
    const operation = byId('createToken');
    const before = c.sandbox!.stats.snapshot().calls.loginSession;
    const broken = fc.tuple(fc.string({ maxLength: 10 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 10 })).map(([a, s, b]) => `${a}${String.fromCharCode(s)}${b}`);
    await fc.assert(
      fc.asyncProperty(broken, fc.boolean(), async (text, asUsername) => {
        const res = await send(operation, operation.operationId, {
          method: 'POST',
          url: `${BASE}/token`,
          headers: { secret: TEST_SECRET, 'content-type': 'application/json' },
          payload: JSON.stringify(asUsername ? { username: text, password: 'test_pass' } : { username: 'test', password: text }),
        });
        expect(res.statusCode).toBe(400);
        expect(res.json().message).toMatch(asUsername ? /^username:/ : /^password:/);
      }),
      params(100),
    );
    expect(c.sandbox!.stats.snapshot().calls.loginSession).toBe(before);
  });
});

describe('failures that are ours, not the caller\'s', () => {
  it('answers 500 with the error body, not a 400, when the store fails while checking the token', async () => {
    const store = c.ctx.store as unknown as { findToken: (...args: unknown[]) => Promise<unknown> };
    store.findToken = async () => {
      throw new Error('connection terminated unexpectedly');
    };
    try {
      const res = await c.call('customer', { user_id: userId }, { token });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ code: 'internal_error', message: expect.any(String) });
      expect(res.body).not.toMatch(/connection terminated/);
    } finally {
      delete (store as { findToken?: unknown }).findToken; // back to the class's method
    }
    expect((await c.call('customer', { user_id: userId }, { token })).statusCode).toBe(200);
  });
});

describe('money movements with valid token and accounts but hostile amounts, dates and ids', () => {
  const PAYEES = ['payee_dewa', 'payee_du', 'payee_salik'];
  /** Could this JSON text be an acceptable amount for some account (BHD allows 3 decimals)? */
  const acceptableAmount = (text: string) => {
    const n = JSON.parse(text) as unknown;
    return typeof n === 'number' && toMinorUnits(n, 'BHD').ok;
  };
  const acceptableDate = (text: string) => {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
    const d = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v && v <= new Date(Date.now() + 14 * 3600_000).toISOString().slice(0, 10);
  };
  const badAmount = fc
    .oneof(
      { weight: 4, arbitrary: anyNumber.map((n) => JSON.stringify(n)) },
      { weight: 1, arbitrary: fc.constantFrom(...NASTY_NUMBER_TEXT, '"1"', '"NaN"', '"-0"', '"1e308"', 'null', 'true', '[1]', '{"value":1}') },
    )
    .filter((t) => !acceptableAmount(t));
  const goodAmount = fc.constantFrom('1', '0.5', '2.25');
  const goodDate = fc.constantFrom(undefined, '"2024-01-31"', '"2000-02-29"');
  const badDate = fc
    .oneof(
      fc.constantFrom('"2024-02-30"', '"9999-12-31"', '"2999-01-01"', '"0000-00-00"', '"2023-02-29"', '"24-01-01"', '"2024-01-01T00:00:00Z"', '""', '20240101', 'null', '"+02024-01-01"', '"2024-W01-1"', '"1e308"', '"\uff12\uff10\uff12\uff14-01-01"'),
      anyString.map((s) => JSON.stringify(s)),
    )
    .filter((t) => !acceptableDate(t));
  const badId = () =>
    fc
      .oneof(anyString.map((s) => JSON.stringify(s)), leafText, fc.constantFrom('"acct_0000000000000000"', '"ACCT_"', 'null', '[]', '{}'))
      .filter((t) => ![...accountIds, ...PAYEES].some((id) => t === JSON.stringify(id)));

  /** A body where at least one field is wrong: the amount, the date, the source or the destination. */
  const movementBody = (kind: 'transfer' | 'payment') => {
    const destField = kind === 'transfer' ? 'dest_account_id' : 'payee_id';
    const ownAccount = fc.constantFrom(...accountIds).map((id) => JSON.stringify(id));
    const destination = kind === 'transfer' ? fc.oneof({ weight: 4, arbitrary: ownAccount }, { weight: 1, arbitrary: fc.constant('"payee_dewa"') }) : fc.constantFrom(...PAYEES).map((id) => JSON.stringify(id));
    const currency = fc.option(fc.oneof(fc.constantFrom('"AED"', '"USD"', '"BHD"', '"aed"', '"XXX"', '""', '1', 'null', '"AED "'), anyString.map((s) => JSON.stringify(s))), { nil: undefined, freq: 2 });
    const wrong = fc.constantFrom('amount', 'date', 'source', 'destination');
    return fc
      .tuple(wrong, ownAccount, destination, badAmount, goodAmount, currency, goodDate, badDate, badId(), fc.array(fc.tuple(fc.constantFrom(...PROTO_KEYS, 'meta'), leafText), { maxLength: 2 }))
      .map(([which, src, dst, amountBad, amountOk, cur, dateOk, dateBad, idBad, extra]) => {
        const entries: [string, string][] = [['user_id', JSON.stringify(userId)]];
        entries.push(['source_account_id', which === 'source' ? idBad : src]);
        entries.push([destField, which === 'destination' ? idBad : dst]);
        entries.push(['amount', which === 'amount' ? amountBad : amountOk]);
        if (cur !== undefined) entries.push(['currency_code', cur]);
        const date = which === 'date' ? dateBad : dateOk;
        if (date !== undefined) entries.push(['date', date]);
        entries.push(...extra);
        return { which, text: objectText(entries) };
      });
  };

  for (const kind of ['transfer', 'payment'] as const) {
    it(`refuses every ${kind} with a wrong field and moves no money`, async () => {
      const operation = byId(kind === 'transfer' ? 'createTransfer' : 'createPayment');
      const before = c.sandbox!.stats.snapshot();
      await fc.assert(
        fc.asyncProperty(movementBody(kind), fc.option(headerValue.filter((v) => v.length > 0 && v.length <= 255), { nil: undefined, freq: 3 }), async (body, key) => {
          const res = await send(operation, operation.operationId, {
            method: 'POST',
            url: `${BASE}/${kind}`,
            headers: { secret: TEST_SECRET, token, 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
            payload: body.text,
          });
          expect(res.statusCode, `${body.which} wrong: ${body.text.slice(0, 300)}`).toBe(tooLarge(body.text) ? 413 : 400);
        }),
        params(1000),
      );
      const after = c.sandbox!.stats.snapshot();
      expect(after.calls.createSession - before.calls.createSession, 'Verify sessions created by rejected input').toBe(0);
      expect(after.calls.createTransfer, 'Verify transfers created by rejected input').toBe(0);
    });
  }

  it('left no movement, ledger entry or pollution behind', async () => {
    const ledger = await c.call('transactions', { user_id: userId }, { token });
    expect(ledger.statusCode).toBe(200);
    expect(ledger.json()).toEqual([]);
    expect(await c.ctx.store.listLedger({ userId, limit: 1000 })).toEqual([]);
    expect(await c.ctx.store.listInFlightMovements()).toEqual([]);
    expect(c.sandbox!.stats.calls.createTransfer).toBe(0);
    // the signed-in token survived thousands of hostile calls
    expect((await c.call('customer', { user_id: userId }, { token })).statusCode).toBe(200);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeysBefore.object);
    expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(prototypeKeysBefore.array);
    expect(Object.getOwnPropertyNames(Function.prototype).sort()).toEqual(prototypeKeysBefore.function);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('one-time passwords under hostile answers', () => {
  it('answers 200, 400, 451 or 453 to a pending challenge, and only 400/403 once it is cancelled', async () => {
    const operation = byId('validateOtp');
    const otpText = fc.oneof(
      { weight: 3, arbitrary: anyString.map((s) => JSON.stringify(s)) },
      { weight: 1, arbitrary: leafText },
      { weight: 1, arbitrary: fc.constantFrom('"1234"', '"12345"', '"ruby|vim"', '"ruby\\nvim"', '"|||"', '"\\n\\n"', '" 1234 "', '"ruby|vim|extra"') },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('test_otp', 'test_questions'), fc.array(otpText, { minLength: 1, maxLength: 5 }), async (user, otps) => {
        const s = await c.signIn(user);
        // a 200 may bring another challenge (12345 → questions), so only a 453 settles it for sure
        let state: 'pending' | 'answered' | 'cancelled' = 'pending';
        for (const otp of otps) {
          const payload = objectText([['user_id', JSON.stringify(s.userId)], ['otp', otp]]);
          const res = await send(operation, operation.operationId, { method: 'POST', url: `${BASE}/validate_otp`, headers: { secret: TEST_SECRET, token: s.token, 'content-type': 'application/json' }, payload }, [s.token]);
          if (tooLarge(payload)) expect(res.statusCode).toBe(413);
          else if (state === 'cancelled') expect([400, 403], res.body).toContain(res.statusCode);
          else if (state === 'answered') expect([200, 400, 403, 451, 453], res.body).toContain(res.statusCode);
          else expect([200, 400, 451, 453], res.body).toContain(res.statusCode);
          if (res.statusCode === 200) state = 'answered';
          if (res.statusCode === 453) state = 'cancelled';
        }
      }),
      params(80),
    );
  });
});

// PostgreSQL refuses what SQLite takes (NUL in text, more than 65535 parameters): the
// store-facing properties once more against it, when the test cluster is there.
describe.skipIf(!testPostgresUrl() && !postgresRequired)('on PostgreSQL', () => {
  let pg: TestConnector;
  let pgUser: { userId: string; token: string };
  let dropDatabase: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const db = await createDatabase();
    dropDatabase = db.drop;
    pg = await startTestConnector({ DATABASE_URL: db.url, RATE_LIMIT_PER_TOKEN: '1000000', RATE_LIMIT_PER_ADDRESS: '1000000', ACCOUNTS_CACHE_SECONDS: '3600' });
    pgUser = await pg.signIn('test');
  });
  afterAll(async () => {
    await pg?.close();
    await dropDatabase?.();
  });

  it('keeps every signed-in operation to documented answers for hostile field values', async () => {
    // the operations whose input reaches SQL
    const storeFacing = ['searchTransactions', 'listAccounts', 'createTransfer', 'createPayment', 'validateOtp'].map(byId);
    const cases = fc.constantFrom(...storeFacing).chain((operation) => fc.tuple(fc.constant(operation), headerChoice({ mostlyValid: true }), shapedBody(operation, () => pgUser.userId)));
    await fc.assert(
      fc.asyncProperty(cases, async ([operation, choice, payload]) => {
        await send(operation, operation.operationId, { method: 'POST', url: `${BASE}${operation.path}`, headers: headersOf(choice, pgUser.token), payload }, [pgUser.token], pg);
      }),
      params(800),
    );
    expect(pg.sandbox!.stats.calls.createTransfer).toBe(0);
  });
});

describe('raw sockets: what inject cannot send', () => {
  socketCases(() => ({ app: c.app, tally, token, userId, bodyLimit: c.config.bodyLimitBytes }));
});
