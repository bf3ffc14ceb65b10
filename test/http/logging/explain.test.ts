/**
 * Logs that explain (issue: "a 400 is logged as a status without its message"): every
 * 4xx/5xx access line carries the error's code and message, access lines name the
 * operation, one-time-password events are logged with the sign-in or movement they guard,
 * every answer carries its request id, and a developer at a terminal gets pino-pretty.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { loggerOptions } from '../../../src/http/logging/redaction.js';
import { startTestConnector, TEST_SECRET, type TestConnector } from '../../helpers/connector.js';

const lines: Record<string, unknown>[] = [];
let c: TestConnector;

beforeAll(async () => {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = { ...(loggerOptions(loadConfig({ LOG_LEVEL: 'info' })) as object), stream };
  c = await startTestConnector({ LOG_LEVEL: 'info' }, { logger: logger as never });
});
afterAll(async () => {
  await c?.close();
});

const flushed = () => new Promise((resolve) => setImmediate(resolve));
const linesOf = (requestId: string) => lines.filter((l) => l['request_id'] === requestId);

describe('access lines', () => {
  it('a refused request is logged with its code and message, and the operation it was', async () => {
    const { userId, token } = await c.signIn('test');
    const res = await c.call('transfer', { user_id: userId, source_account_id: 'nope', dest_account_id: 'nope', amount: 1 }, { token, request_id: 'explain-400' });
    expect(res.statusCode).toBe(400);
    await flushed();
    const completed = linesOf('explain-400').find((l) => l['msg'] === 'request completed');
    expect(completed?.['res']).toEqual({ statusCode: 400, code: 'invalid_request', message: res.json().message });
    const incoming = linesOf('explain-400').find((l) => l['msg'] === 'incoming request');
    expect(incoming?.['req']).toMatchObject({ operation: 'createTransfer', url: '/api/transfer' });
  });

  it('a 200 carries only its status', async () => {
    const res = await c.call('token', { username: 'test', password: 'test_pass' }, { request_id: 'explain-200' });
    expect(res.statusCode).toBe(200);
    await flushed();
    const completed = linesOf('explain-200').find((l) => l['msg'] === 'request completed');
    expect(completed?.['res']).toEqual({ statusCode: 200 });
  });
});

describe('request ids', () => {
  it('echoes Kasisto request_id, or sends the one it made, on every answer', async () => {
    const given = await c.call('token', { username: 'test', password: 'test_pass' }, { request_id: 'kasisto-req-42' });
    expect(given.headers['request_id']).toBe('kasisto-req-42');
    const made = await c.call('nowhere', {});
    expect(made.statusCode).toBe(404);
    expect(String(made.headers['request_id'])).toMatch(/^[0-9a-f-]{36}$/);
    const refused = await c.app.inject({ method: 'POST', url: '/api/token', headers: { 'content-type': 'application/json', request_id: 'no-secret-1' }, payload: '{}' });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['request_id']).toBe('no-secret-1');
  });
});

describe('one-time password events', () => {
  it('logs issued, invalid and validated with the movement they guard', async () => {
    const { userId, token } = await c.signIn('test_transfer_otp');
    const accounts = (await c.call('accounts', { user_id: userId }, { token })).json() as { account_id: string; currency_code: string }[];
    const aed = accounts.find((a) => a.currency_code === 'AED')!;
    const usd = accounts.find((a) => a.currency_code === 'USD')!;
    const transfer = await c.call('transfer', { user_id: userId, source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 0.03 }, { token });
    expect(transfer.statusCode).toBe(450);
    expect((await c.call('validate_otp', { user_id: userId, otp: '0000' }, { token })).statusCode).toBe(451);
    expect((await c.call('validate_otp', { user_id: userId, otp: '1234' }, { token })).statusCode).toBe(200);
    await flushed();
    const events = lines.filter((l) => typeof l['otp_event'] === 'string' && typeof l['movement'] === 'string');
    const movement = events.find((l) => l['otp_event'] === 'issued')?.['movement'];
    expect(movement).toMatch(/^mv_/);
    expect(events.filter((l) => l['movement'] === movement).map((l) => l['otp_event'])).toEqual(['issued', 'invalid', 'validated']);
  });

  it('logs the sign-in verification with its grant', async () => {
    const { userId, token } = await c.signIn('test_otp');
    expect((await c.call('validate_otp', { user_id: userId, otp: '1234' }, { token })).statusCode).toBe(200);
    await flushed();
    const grantEvents = lines.filter((l) => typeof l['otp_event'] === 'string' && typeof l['grant'] === 'string');
    expect(grantEvents.map((l) => l['otp_event'])).toEqual(expect.arrayContaining(['issued', 'validated']));
  });
});

describe('development logs at a terminal', () => {
  it('go through pino-pretty when stdout is a TTY outside production, and stay JSON lines otherwise', () => {
    const tty = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    try {
      Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
      const dev = loggerOptions(loadConfig({ LOG_LEVEL: 'info' })) as { transport?: { target: string }; stream?: unknown };
      expect(dev.transport?.target).toBe('pino-pretty');
      const production = loggerOptions({ ...loadConfig({ LOG_LEVEL: 'info' }), nodeEnv: 'production' }) as { transport?: unknown; stream?: unknown };
      expect(production.transport).toBeUndefined();
      expect(production.stream).toBeDefined();
      Object.defineProperty(process.stdout, 'isTTY', { value: false, configurable: true });
      expect((loggerOptions(loadConfig({ LOG_LEVEL: 'info' })) as { transport?: unknown }).transport).toBeUndefined();
    } finally {
      if (tty) Object.defineProperty(process.stdout, 'isTTY', tty);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
  });
});

// the secret the sign-in helper sends is never in a line
it('writes no secret', () => {
  expect(JSON.stringify(lines)).not.toContain(TEST_SECRET);
});
