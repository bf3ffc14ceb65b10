/**
 * Logs, probes and metrics of a real connector (embedded sandbox):
 * - every log line of a request carries its request_id (domain lines too), and a whole
 *   conversation leaves no secret, token, password, OTP or Verify key in the log output;
 * - /healthz, /readyz (store + Verify, cached, 503 naming what is down), /metrics
 *   (per-instance registry, optional bearer token, Verify calls and circuit state).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loggerOptions } from '../../src/http/logging/redaction.js';
import { startTestConnector, TEST_SECRET, type TestConnector } from '../helpers/connector.js';

type LogLine = Record<string, unknown> & { msg?: string; request_id?: string };

/** Fastify logger options exactly as production builds them (redaction included), written to memory. */
function capturedLogger() {
  const raw: string[] = [];
  const options = { ...(loggerOptions(loadConfig({ LOG_LEVEL: 'debug' })) as object), stream: { write: (line: string) => void raw.push(line) } };
  return { options, raw };
}

const SENSITIVE_KEYS = new Set(['password', 'otp', 'secret', 'token', 'credentials', 'challenge_response', 'answers', 'authorization']);

/** Every [key, value] pair of a parsed line, at any depth. */
function* entries(value: unknown, key = ''): Generator<[string, unknown]> {
  yield [key, value];
  if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* entries(v, k);
}

describe('logs across a whole conversation', () => {
  const log = capturedLogger();
  let c: TestConnector;
  const tokens: string[] = [];
  const otps = ['1234', '12345', '918273'];

  beforeAll(async () => {
    c = await startTestConnector({}, { logger: log.options });
    const firstRequest = log.raw.length;

    const call = async (op: string, body: unknown, headers: Record<string, string> = {}) => c.call(op, body, headers);
    const signIn = await call('token', { username: 'test_transfer_otp', password: 'test_pass' }, { request_id: 'kasisto-req-42' });
    expect(signIn.statusCode).toBe(200);
    const { user_id: userId, token } = signIn.json();
    tokens.push(token);
    const accounts = await call('accounts', { user_id: userId }, { token });
    expect(accounts.statusCode).toBe(200);
    const aed = accounts.json().find((a: { currency_code: string }) => a.currency_code === 'AED');
    const usd = accounts.json().find((a: { currency_code: string }) => a.currency_code === 'USD');
    const transfer = { user_id: userId, source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 1.5 };
    expect((await call('transfer', transfer, { token })).statusCode).toBe(450);
    expect((await call('validate_otp', { user_id: userId, otp: '918273' }, { token })).statusCode).toBe(451);
    const otp = await call('validate_otp', { user_id: userId, otp: '1234' }, { token });
    expect(otp.statusCode).toBe(200);
    const rotated = otp.json().token as string;
    tokens.push(rotated);
    expect((await call('transfer', transfer, { token: rotated })).json()).toMatchObject({ status: 'processed' });

    // a payment with a chained verification: an sms code, then the security questions
    const payment = { user_id: userId, payee_id: 'payee_dewa', source_account_id: aed.account_id, amount: 1 };
    expect((await call('payment', payment, { token: rotated })).statusCode).toBe(450);
    const step = await call('validate_otp', { user_id: userId, otp: '12345' }, { token: rotated });
    expect(step.statusCode).toBe(200);
    tokens.push(step.json().token);
    expect((await call('payment', payment, { token: step.json().token })).statusCode).toBe(450);
    const answered = await call('validate_otp', { user_id: userId, otp: 'ruby\nvim' }, { token: step.json().token });
    expect(answered.statusCode).toBe(200);
    tokens.push(answered.json().token);

    // error cases: wrong password, wrong secret, a foreign-looking token, Verify failing
    expect((await call('token', { username: 'test', password: 'wrong_password_value' })).statusCode).toBe(403);
    expect((await call('customer', { user_id: userId }, { token: 'f'.repeat(43), secret: 'wrong-secret-value' })).statusCode).toBe(401);
    expect((await call('customer', { user_id: userId }, { token: 'g'.repeat(43) })).statusCode).toBe(403);
    const other = await c.signIn('test');
    tokens.push(other.token);
    c.sandbox!.faults.set('listBankAccounts', { status: 500 });
    const failing = await call('accounts', { user_id: other.userId }, { token: other.token });
    expect(failing.statusCode).toBeGreaterThanOrEqual(500);
    c.sandbox!.faults.clear();

    log.raw.splice(0, firstRequest); // keep what the requests logged
  });
  afterAll(async () => {
    await c?.close();
  });

  const lines = () => log.raw.map((line) => JSON.parse(line) as LogLine);

  it('writes only JSON lines, each with the request_id of its request', () => {
    expect(log.raw.length).toBeGreaterThan(20);
    const parsed = lines();
    for (const line of parsed) expect(line.request_id, JSON.stringify(line)).toEqual(expect.any(String));
    const requestIds = new Set(parsed.filter((l) => l.msg === 'incoming request').map((l) => l.request_id));
    for (const line of parsed) expect(requestIds, JSON.stringify(line)).toContain(line.request_id);
  });

  it('puts the request_id on the domain and Verify client lines too, and takes Kasisto’s request_id header', () => {
    const parsed = lines();
    for (const msg of ['customer signed in', 'movement recorded', 'movement finished', 'verify call failed']) {
      const found = parsed.filter((l) => l.msg === msg);
      expect(found.length, msg).toBeGreaterThan(0);
    }
    const signedIn = parsed.find((l) => l.msg === 'customer signed in')!;
    expect(signedIn.request_id).toBe('kasisto-req-42');
    const messages = parsed.filter((l) => l.request_id === 'kasisto-req-42').map((l) => l.msg);
    expect(messages[0]).toBe('incoming request');
    expect(messages.at(-1)).toBe('request completed');
    expect(messages).toContain('customer signed in');
    expect(messages).toContain('verify call ok'); // the Verify client's own lines (debug)
  });

  it('leaves no secret, token, password, OTP or Verify key anywhere in the output', () => {
    const all = log.raw.join('');
    for (const forbidden of [TEST_SECRET, 'wrong-secret-value', 'test_pass', 'wrong_password_value', 'sk_test_', 'pk_test_', 'ruby', ...tokens]) {
      expect(all, forbidden.slice(0, 8)).not.toContain(forbidden);
    }
    for (const line of lines()) {
      for (const [key, value] of entries(line)) {
        if (SENSITIVE_KEYS.has(key)) expect(value, `${key} in ${JSON.stringify(line)}`).toBe('[redacted]');
        if (typeof value !== 'string') continue;
        for (const otp of otps) {
          // a standalone OTP in any text (hex ids may contain the digits by chance, so the boundaries exclude hex)
          expect(new RegExp(`(^|[^0-9a-f-])${otp}($|[^0-9a-f-])`).test(value), `${otp} in ${key}: ${value}`).toBe(false);
        }
      }
    }
  });
});

describe('probes and metrics', () => {
  let c: TestConnector;
  beforeAll(async () => {
    c = await startTestConnector({ METRICS_TOKEN: 'metrics-token-0123456789', READY_CHECK_TIMEOUT_MS: '500', CIRCUIT_FAILURE_THRESHOLD: '1', CIRCUIT_OPEN_SECONDS: '1', VERIFY_RETRIES: '0' });
  });
  afterAll(async () => {
    await c?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
    c.sandbox!.faults.clear();
  });

  const get = (url: string, headers: Record<string, string> = {}) => c.app.inject({ method: 'GET', url, headers });
  const metrics = async () => {
    const res = await get('/metrics', { authorization: 'Bearer metrics-token-0123456789' });
    expect(res.statusCode).toBe(200);
    return res.body;
  };

  it('answers /healthz without the secret', async () => {
    const res = await get('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz from the store and Verify, and 503 naming what is down', async () => {
    const ok = await get('/readyz');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'ok', checks: { store: 'ok', verify: 'ok' } });

    vi.spyOn(c.ctx.store, 'ping').mockRejectedValue(new Error('connection lost'));
    // slower than READY_CHECK_TIMEOUT_MS, yet within the Verify timeout (no circuit failure)
    c.sandbox!.faults.set('listBanks', { latencyMs: 1_000 });
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // past the 2 s cache
    const started = Date.now();
    const down = await get('/readyz');
    expect(Date.now() - started).toBeLessThan(2_500); // READY_CHECK_TIMEOUT_MS bounds it
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ status: 'unavailable', down: ['store', 'verify'], checks: { store: 'error', verify: 'timeout' } });
    expect(down.body).not.toContain('connection lost');
  });

  it('guards /metrics with METRICS_TOKEN when set', async () => {
    expect((await get('/metrics')).statusCode).toBe(401);
    expect((await get('/metrics', { authorization: 'Bearer wrong-token-0123456789' })).statusCode).toBe(401);
    expect((await get('/metrics', { authorization: 'Bearer metrics-token-0123456789' })).statusCode).toBe(200);
  });

  it('counts requests and Verify calls, and shows the circuit state', async () => {
    const { userId, token } = await c.signIn('test');
    await c.call('accounts', { user_id: userId }, { token });
    let text = await metrics();
    expect(text).toMatch(/connector_http_requests_total\{operation="createToken",status="200"\} \d+/);
    expect(text).toMatch(/connector_http_request_duration_seconds_count\{operation="listAccounts",status="200"\} 1/);
    expect(text).toMatch(/connector_verify_calls_total\{operation="loginSession",outcome="ok"\} \d+/);
    expect(text).toMatch(/connector_verify_call_duration_seconds_bucket\{le="[^"]+",operation="createSession",outcome="ok"\}/);
    expect(text).toMatch(/^connector_verify_circuit_state 0$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);

    // one failing call opens the circuit (threshold 1 here)
    c.sandbox!.faults.set('*', { status: 503 });
    const second = await c.signIn('test_questions').catch(() => undefined);
    expect(second).toBeUndefined();
    text = await metrics();
    expect(text).toMatch(/connector_verify_calls_total\{operation="createSession",outcome="server"\} 1/);
    expect(text).toMatch(/^connector_verify_circuit_state 2$/m);
    expect(text).toMatch(/connector_http_requests_total\{operation="createToken",status="50\d"\} 1/);

    // after CIRCUIT_OPEN_SECONDS one trial call closes it again
    c.sandbox!.faults.clear();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await c.signIn('test');
    expect(await metrics()).toMatch(/^connector_verify_circuit_state 0$/m);
  });

  it('keeps a separate registry per instance', async () => {
    const other = await startTestConnector({});
    try {
      const text = (await other.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).not.toMatch(/operation="createToken"/);
      expect(text).toMatch(/^connector_verify_circuit_state 0$/m);
    } finally {
      await other.close();
    }
  });
});
