/**
 * Regressions from the second hostile review: password and one-time-password guessing, the
 * sign-in OTP race, idle expiry precision, and secrets in query strings. Each block names
 * the hole it pins down. On SQLite and PostgreSQL where the store is the arbiter.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loggerOptions } from '../../src/http/logging/redaction.js';
import { startTestConnector, TEST_SECRET, type TestConnector } from '../helpers/connector.js';
import { kasistoResponseCheck } from '../helpers/kasisto-contract.js';
import { testStores } from '../helpers/postgres.js';

const checked = kasistoResponseCheck();
const stores = testStores('guessing');

const open: { c: TestConnector; drop: () => Promise<void> }[] = [];
afterAll(async () => {
  for (const { c, drop } of open) {
    await c.close();
    await drop();
  }
});

async function connector(database: () => Promise<{ url: string; drop(): Promise<void> }>, env: Record<string, string>) {
  const db = await database();
  const c = await startTestConnector({ DATABASE_URL: db.url, ...env });
  open.push({ c, drop: db.drop });
  const call = async (operation: string, body: unknown, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') => {
    const res = await c.app.inject({
      method: 'POST',
      url: `/api/${operation}`,
      remoteAddress,
      headers: { 'content-type': 'application/json', secret: TEST_SECRET, ...headers },
      payload: JSON.stringify(body),
    });
    checked(operation, res);
    return res;
  };
  return { c, call };
}

const randomToken = () => Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);

describe.each(stores)('on $name', ({ database }) => {
  describe('the rate limit on /token', () => {
    // Hole: after the per-address limit answered 429, any random `token` header gave each
    // request its own bucket: 300 password guesses in 1.7 s, all relayed to the bank.
    it('a token header, known or not, never picks the bucket of /token', async () => {
      const { c, call } = await connector(database, { RATE_LIMIT_PER_ADDRESS: '5', SIGNIN_ATTEMPTS_PER_WINDOW: '1000', CUSTOMER_MAX_FAILURES: '100' });
      const statuses: number[] = [];
      for (let i = 0; i < 8; i += 1) statuses.push((await call('token', { username: 'failure', password: `guess${i}` }, { token: randomToken() })).statusCode);
      expect(statuses.slice(0, 5)).toEqual([403, 403, 403, 403, 403]);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      expect(c.sandbox!.stats.calls.loginSession, 'guesses past the limit never reach the bank').toBe(5);
    });

    it('an unknown token on a data operation is counted against the address, not a bucket of its own', async () => {
      const { call } = await connector(database, { RATE_LIMIT_PER_ADDRESS: '3' });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) statuses.push((await call('accounts', { user_id: 'usr_x' }, { token: randomToken() })).statusCode);
      expect(statuses).toEqual([403, 403, 403, 429, 429]);
    });
  });

  describe('per customer, whatever the token or address', () => {
    it('locks a customer out after CUSTOMER_MAX_FAILURES wrong passwords, then refuses even the right one without asking the bank', async () => {
      const { c, call } = await connector(database, { CUSTOMER_MAX_FAILURES: '3', CUSTOMER_LOCKOUT_SECONDS: '600', SIGNIN_ATTEMPTS_PER_WINDOW: '1000' });
      for (let i = 0; i < 3; i += 1) {
        const wrong = await call('token', { username: 'test', password: `wrong${i}` }, {}, `10.0.0.${i + 1}`);
        expect(wrong.statusCode, wrong.body).toBe(403);
      }
      const loginsBefore = c.sandbox!.stats.calls.loginSession;
      const right = await call('token', { username: 'test', password: 'test_pass' }, { token: randomToken() }, '10.9.9.9');
      expect(right.statusCode, right.body).toBe(429);
      expect(right.json()).toMatchObject({ code: 'customer_locked' });
      expect(Number(right.headers['retry-after'])).toBeGreaterThan(500);
      expect(c.sandbox!.stats.calls.loginSession).toBe(loginsBefore);
      // another customer is not affected
      expect((await call('token', { username: 'test_transfer_otp', password: 'test_pass' })).statusCode).toBe(200);
      // after the lockout the customer signs in again
      const realNow = c.ctx.now;
      c.ctx.now = () => realNow() + 601_000;
      try {
        expect((await call('token', { username: 'test', password: 'test_pass' })).statusCode).toBe(200);
      } finally {
        c.ctx.now = realNow;
      }
    });

    it('limits sign-in attempts per customer per window (429 with Retry-After), across addresses', async () => {
      const { call } = await connector(database, { SIGNIN_ATTEMPTS_PER_WINDOW: '3', SIGNIN_WINDOW_SECONDS: '60' });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) statuses.push((await call('token', { username: 'test', password: 'test_pass' }, {}, `10.1.0.${i}`)).statusCode);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    });
  });

  describe('the sign-in one-time password', () => {
    // Hole: one correct and six wrong codes sent at once on one token of test_otp: wrong codes
    // answered 200 with a new token, and a 453 answered while the login ended up active.
    it('answers sent at once are judged one at a time: no wrong code is accepted, and after a 453 no token of the login works', async () => {
      const { call } = await connector(database, { CUSTOMER_MAX_FAILURES: '100', SIGNIN_ATTEMPTS_PER_WINDOW: '1000' });
      for (let trial = 0; trial < 6; trial += 1) {
        const signIn = await call('token', { username: 'test_otp', password: 'test_pass' });
        const { user_id: userId, token } = signIn.json() as { user_id: string; token: string };
        const codes = ['1234', '0001', '0002', '0003', '0004', '0005', '0006'];
        const answers = await Promise.all(codes.map((otp) => call('validate_otp', { user_id: userId, otp }, { token })));
        const accepted = answers.map((res, i) => [codes[i], res.statusCode] as const).filter(([, status]) => status === 200);
        expect(accepted.every(([code]) => code === '1234'), JSON.stringify(accepted)).toBe(true);
        expect(accepted.length).toBeLessThanOrEqual(1);
        const tokens = [token, ...answers.filter((r) => r.statusCode === 200).map((r) => r.json().token as string)];
        const after = await Promise.all(tokens.map((t) => call('accounts', { user_id: userId }, { token: t })));
        if (answers.some((r) => r.statusCode === 453)) {
          // the login ended: none of its tokens works any more
          for (const res of after) expect(res.statusCode, res.body).toBe(403);
        } else {
          expect(accepted.length).toBe(1);
          expect(after.some((res) => res.statusCode === 200)).toBe(true);
        }
      }
    });

    // Hole: wrong codes spread over 15 fresh tokens of one customer (45 guesses), then the
    // right code on a 16th token, succeeded: attempts were counted per token.
    it('counts failures per customer: guesses spread over fresh tokens lock the customer out', async () => {
      const { call } = await connector(database, { CUSTOMER_MAX_FAILURES: '5', SIGNIN_ATTEMPTS_PER_WINDOW: '1000' });
      let guesses = 0;
      let lockedAt: number | undefined;
      for (let t = 0; t < 15 && lockedAt === undefined; t += 1) {
        const signIn = await call('token', { username: 'test_otp', password: 'test_pass' });
        if (signIn.statusCode === 429) {
          lockedAt = guesses;
          break;
        }
        const { user_id: userId, token } = signIn.json() as { user_id: string; token: string };
        for (let g = 0; g < 3; g += 1) {
          const res = await call('validate_otp', { user_id: userId, otp: `99${t}${g}` }, { token });
          if (res.statusCode === 453) break;
          expect(res.statusCode, res.body).toBe(451);
          guesses += 1;
        }
      }
      expect(lockedAt, 'the customer is locked out within CUSTOMER_MAX_FAILURES guesses').toBeDefined();
      expect(lockedAt!).toBeLessThanOrEqual(5);
      const last = await call('token', { username: 'test_otp', password: 'test_pass' });
      expect(last.statusCode, last.body).toBe(429);
      expect(last.json().code).toBe('customer_locked');
    });
  });

  describe('idle expiry', () => {
    // Hole: with TOKEN_IDLE_TTL_SECONDS=12, a token used every 3 s expired at 12 s: its last
    // use was written at most every 10 s.
    it('gives the customer the configured idle time, within a second, whatever the write throttling', async () => {
      const { c, call } = await connector(database, { TOKEN_IDLE_TTL_SECONDS: '12', TOKEN_CACHE_MS: '0', TOKEN_ROTATION_GRACE_SECONDS: '600' });
      const signIn = await call('token', { username: 'test', password: 'test_pass' });
      const { user_id: userId, token } = signIn.json() as { user_id: string; token: string };
      const realNow = c.ctx.now;
      let offset = 0;
      c.ctx.now = () => realNow() + offset;
      try {
        for (let step = 0; step < 10; step += 1) {
          offset += 3_000;
          const res = await call('customer', { user_id: userId }, { token });
          expect(res.statusCode, `used every 3 s, at ${offset / 1000} s: ${res.body}`).toBe(200);
        }
        offset += 11_000; // idle 11 s: still within the 12 s
        expect((await call('customer', { user_id: userId }, { token })).statusCode).toBe(200);
        offset += 13_000; // idle 13 s: expired
        expect((await call('customer', { user_id: userId }, { token })).statusCode).toBe(403);
      } finally {
        c.ctx.now = realNow;
      }
    });
  });
});

describe('query strings', () => {
  // Hole: `POST /api/token?secret=…` and `?token=…` were written verbatim in the access log's url.
  it('are never logged: the access lines carry the path only', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = { ...(loggerOptions(loadConfig({ LOG_LEVEL: 'info' })) as object), stream };
    const c = await startTestConnector({ LOG_LEVEL: 'info' }, { logger: logger as never });
    try {
      const secretInQuery = 'S3cretInTheQuery-0042';
      const tokenInQuery = 'T0kenInTheQuery-0042';
      await c.app.inject({ method: 'POST', url: `/api/token?secret=${secretInQuery}&token=${tokenInQuery}`, headers: { 'content-type': 'application/json', secret: TEST_SECRET }, payload: '{}' });
      await c.app.inject({ method: 'POST', url: `/api/nowhere?token=${tokenInQuery}`, headers: { 'content-type': 'application/json', secret: TEST_SECRET }, payload: '{}' });
      await new Promise((resolve) => setImmediate(resolve));
      const text = lines.join('');
      expect(text).toContain('"url":"/api/token"');
      expect(text).not.toContain(secretInQuery);
      expect(text).not.toContain(tokenInQuery);
    } finally {
      await c.close();
    }
  });
});
