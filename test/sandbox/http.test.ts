/**
 * The sandbox's HTTP surface: keys (Token / Bearer, 401 / 403), JSON and form bodies,
 * validation messages naming the field, and the error body of every failure (including
 * Fastify's own 404, 405, 413, 415 and JSON parse errors).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PK, SK, startSandbox, type Running } from './harness.js';
import { specViolations } from './spec-validator.js';

let run: Running;
beforeAll(async () => {
  run = await startSandbox();
});
afterAll(async () => {
  await run.close();
});

const api = () => run.client;

/** For statuses the spec does not list (405, 413, 415): the body is still the error schema. */
function expectErrorBody(body: unknown) {
  expect(specViolations('createSession', 400, body)).toBeUndefined();
}

async function raw(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const res = await fetch(`${run.base}${path}`, { method, ...init });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

describe('keys', () => {
  it('accepts Token and Bearer, any case, with or without quotes', async () => {
    expect((await api().listBanks({ scheme: 'Token' })).status).toBe(200);
    expect((await api().listBanks({ scheme: 'Bearer' })).status).toBe(200);
    expect((await api().listBanks({ key: null, headers: { authorization: `token ${PK}` } })).status).toBe(200);
    expect((await api().listBanks({ key: null, headers: { authorization: `Token "${PK}"` } })).status).toBe(200);
    expect((await api().createSession({ currency: 'AED', amount: 1 }, { scheme: 'Bearer' })).status).toBe(200);
  });

  it('401 without a key, with an unknown key, a live key or another scheme', async () => {
    const none = await api().listBanks({ key: null });
    expect(none.status).toBe(401);
    expect(none.body.message).toMatch(/No API key provided/);
    for (const key of ['sk_nope', 'xx_test_abc', 'sk_test_', 'pk_live_abcdef']) {
      const res = await api().listBanks({ key });
      expect(res.status, key).toBe(401);
      expect(res.body.message).toMatch(/^Invalid API key provided/);
    }
    expect((await api().listBanks({ key: null, headers: { authorization: `Basic ${PK}` } })).status).toBe(401);
    expect((await api().getTransfer('tr_AAAAAAAAAAAA', { key: 'sk_live_abc' })).status).toBe(401);
    expect((await api().listSessionTransfers('ses_AAAAAAAAAAAA', { key: null })).status).toBe(401);
  });

  it('403 for the wrong kind of key', async () => {
    const pkOnSecret = await api().createSession({ currency: 'AED', amount: 1 }, { key: PK });
    expect(pkOnSecret.status).toBe(403);
    expect(pkOnSecret.body).toEqual({ object: 'error', message: 'This endpoint requires a secret key' });
    expect((await api().getSession('ses_AAAAAAAAAAAA', { key: PK })).status).toBe(403);
    const skOnPublic = await api().listBanks({ key: SK });
    expect(skOnPublic.status).toBe(403);
    expect(skOnPublic.body.message).toBe('This endpoint requires a public key');
    const { body: s } = await api().createSession({ currency: 'AED', amount: 1 });
    expect((await api().login(s.id, 'test', 'test_pass', { key: SK })).status).toBe(403);
    expect((await api().getSession(s.id)).body.status).toBe('initial');
  });

  it('the key is checked before the body', async () => {
    const res = await api().createSession({ currency: 'AED', amount: 1 }, { key: null, json: { nonsense: true } });
    expect(res.status).toBe(401);
    const broken = await raw('POST', '/sessions', { headers: { 'content-type': 'application/json' }, body: '{"currency":' });
    expect(broken.status).toBe(401);
    const wrongKind = await raw('POST', '/sessions', { headers: { authorization: `Token ${PK}`, 'content-type': 'text/plain' }, body: 'x' });
    expect(wrongKind.status).toBe(403);
  });
});

describe('bodies', () => {
  it('accepts forms: numbers as text, bracket notation, repeated answers', async () => {
    const created = await api().createSession({ currency: '', amount: 0 }, { form: 'currency=BHD&amount=100&description=Order%20%231' });
    expect(created.status).toBe(200);
    const id = created.body.id;
    expect(run.sandbox.state.sessionTerms(id)).toEqual({ currency: 'BHD', amount: 100, description: 'Order #1' });
    const login = await api().login(id, '', '', { form: 'bank_id=test_bank&credentials%5Blogin%5D=test_otp&credentials[password]=test_pass' });
    expect(login.body.status).toBe('pending_verification');
    const chained = await api().submitSessionVerification(id, login.body.verification.id, {}, { form: 'challenge_response=12345' });
    const q = chained.body.verifiable.verification;
    // `answers=…&answers=…` (no brackets) is the same array.
    const done = await api().submitSessionVerification(id, q.id, {}, { form: 'answers=ruby&answers=vim' });
    expect(done.body.verifiable.status).toBe('connected');
  });

  it('accepts a form with a charset parameter, and a single answer as a one-element array', async () => {
    const s = await api().createSession({ currency: '', amount: 0 }, { form: 'currency=AED&amount=5' });
    const login = await api().login(s.body.id, '', '', {
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      form: 'bank_id=test_bank&credentials[login]=test_questions&credentials[password]=test_pass',
    });
    expect(login.body.status).toBe('pending_verification');
    const one = await api().submitSessionVerification(s.body.id, login.body.verification.id, {}, { form: 'answers=ruby' });
    expect(one.body).toMatchObject({ status: 'retry', attempt_count: 1 });
  });

  it('an empty form is validated like any other body', async () => {
    const res = await api().call('createSession', 'POST', '/sessions', { form: '' });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('currency is missing');
  });

  it('JSON numbers are not coerced: amount must be an integer', async () => {
    for (const [amount, message] of [
      ['500', 'amount must be an integer'],
      [1.5, 'amount must be an integer'],
      [0, 'amount must be greater than or equal to 1'],
      [-3, 'amount must be greater than or equal to 1'],
    ] as const) {
      const res = await api().call('createSession', 'POST', '/sessions', { json: { currency: 'AED', amount } });
      expect(res.status, String(amount)).toBe(400);
      expect(res.body.message).toBe(message);
    }
    const form = await api().call('createSession', 'POST', '/sessions', { form: 'currency=AED&amount=1.5' });
    expect(form.status).toBe(400);
    expect(form.body.message).toBe('amount must be an integer');
  });

  it('validation messages name the field', async () => {
    const cases: [string, unknown, string][] = [
      ['/sessions', { amount: 100 }, 'currency is missing'],
      ['/sessions', { currency: 'aed', amount: 100 }, 'currency is invalid'],
      ['/sessions', { currency: 'XYZ', amount: 100 }, 'currency is invalid'],
      ['/sessions', { currency: 'AED', amount: 100, description: 7 }, 'description must be of type string'],
    ];
    for (const [path, json, message] of cases) {
      const res = await api().call('createSession', 'POST', path, { json });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ object: 'error', message });
    }
    const { body: s } = await api().createSession({ currency: 'AED', amount: 1 });
    const noCreds = await api().call('loginSession', 'POST', `/sessions/${s.id}/login`, { json: { bank_id: 'test_bank' } });
    expect(noCreds.body.message).toBe('credentials is missing');
    const noLogin = await api().call('loginSession', 'POST', `/sessions/${s.id}/login`, { form: 'bank_id=test_bank&credentials[password]=x' });
    expect(noLogin.body.message).toBe('credentials[login] is missing');
    const badSource = await api().call('createTransfer', 'POST', `/sessions/${s.id}/transfers`, { json: { source: 'acc_1' } });
    expect(badSource.body.message).toBe('source is invalid');
    const vrf = await api().call('submitSessionVerification', 'PUT', `/sessions/${s.id}/verifications/vrf_AAAAAAAAAAAA`, {
      json: { answers: 'ruby' },
    });
    expect(vrf.body.message).toBe('answers must be of type array');
  });

  it('answers 400 for a missing body and broken JSON, 415 for other media types, 413 for huge bodies', async () => {
    const missing = await raw('POST', '/sessions', { headers: { authorization: `Token ${SK}` } });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/Request body is missing/);
    expectErrorBody(missing.body);

    const broken = await raw('POST', '/sessions', { headers: { authorization: `Token ${SK}`, 'content-type': 'application/json' }, body: '{"currency":' });
    expect(broken.status).toBe(400);
    expectErrorBody(broken.body);

    const text = await raw('POST', '/sessions', { headers: { authorization: `Token ${SK}`, 'content-type': 'text/plain' }, body: 'currency=AED' });
    expect(text.status).toBe(415);
    expectErrorBody(text.body);

    const huge = await raw('POST', '/sessions', {
      headers: { authorization: `Token ${SK}`, 'content-type': 'application/json' },
      body: JSON.stringify({ currency: 'AED', amount: 1, description: 'x'.repeat(100_000) }),
    });
    expect(huge.status).toBe(413);
    expectErrorBody(huge.body);
  });

  it('limits form parsing (depth, parameters, arrays) and ignores prototype keys', async () => {
    const { body: s } = await api().createSession({ currency: 'AED', amount: 1 });
    const deep = await api().call('loginSession', 'POST', `/sessions/${s.id}/login`, {
      form: 'bank_id=test_bank&credentials[login][a][b][c]=x&credentials[password]=test_pass',
    });
    expect(deep.status).toBe(400);
    expect(deep.body.message).toMatch(/^Malformed form body/);
    const many = Array.from({ length: 60 }, (_, i) => `p${i}=1`).join('&');
    expect((await api().call('createSession', 'POST', '/sessions', { form: `currency=AED&amount=1&${many}` })).status).toBe(400);
    const longArray = Array.from({ length: 25 }, () => 'answers[]=x').join('&');
    expect((await api().call('submitSessionVerification', 'PUT', `/sessions/${s.id}/verifications/vrf_AAAAAAAAAAAA`, { form: longArray })).status).toBe(400);
    const proto = await api().call('createSession', 'POST', '/sessions', { form: '__proto__[polluted]=yes&currency=AED&amount=2&constructor[prototype][x]=1' });
    expect(proto.status).toBe(200);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });
});

describe('routing', () => {
  it('404 for unknown paths, 405 for a known path with another method, all as error bodies', async () => {
    const unknown = await raw('GET', '/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ object: 'error', message: 'No such endpoint: GET /nope' });
    const wrongMethod = await raw('DELETE', '/sessions/ses_AAAAAAAAAAAA', { headers: { authorization: `Token ${SK}` } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    expectErrorBody(wrongMethod.body);
    const put = await raw('PUT', '/banks');
    expect(put.status).toBe(405);
  });

  it('the control endpoint is absent by default', async () => {
    for (const [method, path] of [
      ['GET', '/__sandbox/stats'],
      ['POST', '/__sandbox/reset'],
      ['DELETE', '/__sandbox/faults'],
      ['PUT', '/__sandbox/faults/createSession'],
    ] as const) {
      const res = await raw(method, path, method === 'PUT' ? { headers: { 'content-type': 'application/json' }, body: '{"status":500}' } : {});
      expect(res.status, path).toBe(404);
      expectErrorBody(res.body);
    }
  });

  it('accepts a trailing slash, as in Verify\'s reference (`POST /sessions/`)', async () => {
    const res = await api().call('createSession', 'POST', '/sessions/', { json: { currency: 'AED', amount: 1 } });
    expect(res.status).toBe(200);
  });

  it('answers JSON with a JSON content type', async () => {
    const res = await api().listBanks();
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });
});
