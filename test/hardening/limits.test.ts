/**
 * Abuse limits of a real connector: rate limits per token and per client address (429 with
 * the spec's error body and Retry-After), the body size limit (413, over a real socket),
 * header/request/keep-alive deadlines against slow clients, and the security headers.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { startTestConnector, TEST_SECRET, type TestConnector } from '../helpers/connector.js';
import { kasistoResponseCheck } from '../helpers/kasisto-contract.js';
import { send } from '../helpers/processes.js';

const checked = kasistoResponseCheck();

describe('rate limits', () => {
  let c: TestConnector;
  let trusting: TestConnector;
  beforeAll(async () => {
    const limits = { RATE_LIMIT_PER_TOKEN: '3', RATE_LIMIT_PER_ADDRESS: '4', RATE_LIMIT_WINDOW_SECONDS: '60' };
    [c, trusting] = await Promise.all([startTestConnector(limits), startTestConnector({ ...limits, TRUST_PROXY: 'true' })]);
  });
  afterAll(async () => {
    await Promise.all([c?.close(), trusting?.close()]);
  });

  const call = (connector: TestConnector, operation: string, body: unknown, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
    connector.app.inject({
      method: 'POST',
      url: `/api/${operation}`,
      remoteAddress,
      headers: { 'content-type': 'application/json', secret: TEST_SECRET, ...headers },
      payload: JSON.stringify(body),
    });

  function expectRateLimited(operation: string, res: LightMyRequestResponse, windowSeconds = 60) {
    expect(res.statusCode, res.body).toBe(429);
    expect(res.json()).toEqual({ code: 'rate_limited', message: expect.stringMatching(/Too many requests/) });
    const retryAfter = Number(res.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
    checked(operation, res);
  }

  it('limits each token on its own, keyed by the token', async () => {
    const signIn = async () => (await call(c, 'token', { username: 'test', password: 'test_pass' }, {}, '10.0.0.1')).json() as { user_id: string; token: string };
    const first = await signIn();
    const second = await signIn();
    for (let i = 0; i < 3; i++) expect((await call(c, 'accounts', { user_id: first.user_id }, { token: first.token })).statusCode).toBe(200);
    expectRateLimited('accounts', await call(c, 'accounts', { user_id: first.user_id }, { token: first.token }));
    // the same address, another token: its own budget
    expect((await call(c, 'accounts', { user_id: second.user_id }, { token: second.token })).statusCode).toBe(200);
  });

  it('limits calls without a token by client address', async () => {
    const body = { username: 'test', password: 'wrong' };
    for (let i = 0; i < 4; i++) expect((await call(c, 'token', body, {}, '10.0.0.2')).statusCode).toBe(403);
    expectRateLimited('token', await call(c, 'token', body, {}, '10.0.0.2'));
    // another address is not affected
    expect((await call(c, 'token', body, {}, '10.0.0.3')).statusCode).toBe(403);
  });

  it('still answers 401 first to a caller without the secret, and never limits the probes', async () => {
    for (let i = 0; i < 5; i++) await call(c, 'token', {}, {}, '10.0.0.4');
    const noSecret = await call(c, 'token', {}, { secret: 'wrong' }, '10.0.0.4');
    expect(noSecret.statusCode).toBe(401);
    for (let i = 0; i < 8; i++) {
      expect((await c.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '10.0.0.4' })).statusCode).toBe(200);
    }
  });

  it('uses X-Forwarded-For as the client address only with TRUST_PROXY=true', async () => {
    const body = { username: 'test', password: 'wrong' };
    // not trusted: every forwarded address is the proxy's one bucket
    for (let i = 0; i < 4; i++) await call(c, 'token', body, { 'x-forwarded-for': `192.0.2.${i}` }, '10.0.0.5');
    expect((await call(c, 'token', body, { 'x-forwarded-for': '192.0.2.99' }, '10.0.0.5')).statusCode).toBe(429);
    // trusted: each forwarded address has its own budget behind the same proxy
    for (let i = 0; i < 4; i++) await call(trusting, 'token', body, { 'x-forwarded-for': '192.0.2.1' }, '10.0.0.5');
    expect((await call(trusting, 'token', body, { 'x-forwarded-for': '192.0.2.1' }, '10.0.0.5')).statusCode).toBe(429);
    expect((await call(trusting, 'token', body, { 'x-forwarded-for': '192.0.2.2' }, '10.0.0.5')).statusCode).toBe(403);
  });
});

describe('body size, slow clients and headers over a real socket', () => {
  let c: TestConnector;
  let port = 0;
  beforeAll(async () => {
    c = await startTestConnector({
      BODY_LIMIT_BYTES: '2048',
      HEADERS_TIMEOUT_MS: '1000',
      REQUEST_TIMEOUT_MS: '2000',
      KEEP_ALIVE_TIMEOUT_MS: '500',
    });
    const address = await c.app.listen({ host: '127.0.0.1', port: 0 });
    port = Number(new URL(address).port);
  });
  afterAll(async () => {
    await c?.close();
  });

  it('answers 413 with the error body to an oversized body', async () => {
    const body = JSON.stringify({ username: 'test', password: 'x'.repeat(5000) });
    const res = await send(`http://127.0.0.1:${port}/api/token`, { method: 'POST', headers: { secret: TEST_SECRET }, body });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ code: 'payload_too_large', message: expect.any(String) });
    checked('token', { statusCode: res.status, body: res.body } as LightMyRequestResponse);
  });

  it('answers 413 to an oversized chunked body (no Content-Length)', async () => {
    const answer = await rawExchange(port, (socket) => {
      socket.write(`POST /api/token HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n`);
      const chunk = `{"username":"test","password":"${'y'.repeat(4000)}"}`;
      socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`);
    });
    expect(answer.text).toMatch(/^HTTP\/1\.1 413/);
    expect(answer.text).toContain('"code":"payload_too_large"');
  });

  it('cuts off a client that sends its headers too slowly (slowloris)', async () => {
    const answer = await rawExchange(port, (socket) => {
      socket.write('POST /api/token HTTP/1.1\r\nHost: x\r\n');
      let n = 0;
      // one more header line every 100 ms, never finishing: the socket never goes idle
      const drip = setInterval(() => {
        if (socket.destroyed || socket.writableEnded) return clearInterval(drip);
        socket.write(`x-drip-${n++}: ${n}\r\n`);
      }, 100);
      socket.once('close', () => clearInterval(drip));
    });
    // HEADERS_TIMEOUT_MS=1000, checked every 500 ms; generous upper bound for a loaded machine
    expect(answer.closedAfterMs).toBeGreaterThanOrEqual(900);
    expect(answer.closedAfterMs).toBeLessThan(6_000);
    expect(answer.text === '' || /^HTTP\/1\.1 408/.test(answer.text)).toBe(true);
  });

  it('cuts off a client that sends its body too slowly', async () => {
    const answer = await rawExchange(port, (socket) => {
      socket.write(`POST /api/token HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n`);
      const drip = setInterval(() => {
        if (socket.destroyed || socket.writableEnded) return clearInterval(drip);
        socket.write(' ');
      }, 100);
      socket.once('close', () => clearInterval(drip));
    });
    // REQUEST_TIMEOUT_MS=2000
    expect(answer.closedAfterMs).toBeGreaterThanOrEqual(1_800);
    expect(answer.closedAfterMs).toBeLessThan(8_000);
  });

  it('closes an idle keep-alive connection', async () => {
    const answer = await rawExchange(port, (socket) => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(answer.text).toMatch(/^HTTP\/1\.1 200/);
    expect(answer.text).toMatch(/keep-alive/i);
    // KEEP_ALIVE_TIMEOUT_MS=500
    expect(answer.closedAfterMs).toBeLessThan(5_000);
  });

  it('sends security headers suitable for a JSON API (no HSTS over plain HTTP)', async () => {
    const res = await send(`http://127.0.0.1:${port}/api/token`, { method: 'POST', headers: { secret: TEST_SECRET }, body: '{}' });
    expect(res.status).toBe(400);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-frame-options']).toBeDefined();
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});

/** Opens a raw socket, lets `drive` write, collects what the server says until it closes the connection. */
function rawExchange(port: number, drive: (socket: Socket) => void, limitMs = 20_000): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const started = Date.now();
    let text = '';
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${limitMs} ms; got: ${text.slice(0, 200)}`));
    }, limitMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => {}); // a reset is one way of being cut off
    socket.on('close', () => {
      clearTimeout(guard);
      resolve({ text, closedAfterMs: Date.now() - started });
    });
    socket.on('connect', () => drive(socket));
  });
}
