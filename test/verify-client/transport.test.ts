/**
 * The Verify client against small throwaway servers: time limits, dropped and refused
 * connections, bodies that break the contract, retries, headers and the connection pool.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VerifyError } from '../../src/adapters/verify/errors.js';
import type { VerifyClient } from '../../src/adapters/verify/client.js';
import { freePort } from '../helpers/prism.js';
import {
  BA,
  PUBLIC_KEY,
  SECRET_KEY,
  SES,
  TR,
  VRF,
  example,
  failure,
  sendJson,
  startServer,
  testClient,
  type Handler,
  type TestServer,
} from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup(handler: Handler, overrides: Parameters<typeof testClient>[1] = {}) {
  const server = await startServer(handler);
  const { client, events } = testClient(server.url, overrides);
  cleanups.push(() => server.close(), () => client.close());
  return { server, client, events };
}

const never: Handler = () => {
  /* never answers */
};

describe('time limit', () => {
  it('a GET that gets no answer ends in a timeout within timeoutMs (no retries)', async () => {
    const { client, server, events } = await setup(never, { timeoutMs: 300, retries: 0 });
    const started = performance.now();
    const error = await failure(client.getTransfer(TR));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(VerifyError);
    expect(error).toMatchObject({ kind: 'timeout', operation: 'getTransfer', attempts: 1 });
    expect(error.status).toBeUndefined();
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(300 + 250);
    expect(server.requests).toHaveLength(1);
    expect(events).toEqual([expect.objectContaining({ operation: 'getTransfer', outcome: 'timeout' })]);
  });

  it('covers the body: headers sent, body stalled → timeout', async () => {
    const { client } = await setup(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write('{"id":"tr_F2sqeKZa8ppl",');
      },
      { timeoutMs: 300, retries: 0 },
    );
    const started = performance.now();
    const error = await failure(client.getTransfer(TR));
    expect(error).toMatchObject({ kind: 'timeout', status: 200 });
    expect(performance.now() - started).toBeLessThan(300 + 250);
  });

  it('covers the body of an error answer too', async () => {
    const { client } = await setup(
      (_req, res) => {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.write('{"object":"error",');
      },
      { timeoutMs: 300, retries: 0 },
    );
    const error = await failure(client.getSession(SES));
    expect(error).toMatchObject({ kind: 'timeout', status: 404 });
  });

  it('retries a hanging GET but keeps the whole call within about twice the time limit', async () => {
    const { client, server, events } = await setup(never, { timeoutMs: 300, retries: 2 });
    const started = performance.now();
    const error = await failure(client.getSession(SES));
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ kind: 'timeout' });
    expect(elapsed).toBeLessThan(2 * 300 + 250);
    expect(server.requests.length).toBeGreaterThanOrEqual(2);
    expect(events.length).toBe(server.requests.length);
    expect(error.attempts).toBe(events.length);
    for (const e of events) expect(e.outcome).toBe('timeout');
  });

  it('sends a createTransfer that times out exactly once', async () => {
    const { client, server, events } = await setup(never, { timeoutMs: 300, retries: 2 });
    const error = await failure(client.createTransfer(SES, { source: BA }));
    expect(error).toMatchObject({ kind: 'timeout', operation: 'createTransfer', attempts: 1 });
    // give a (wrong) retry the time to arrive
    await new Promise((r) => setTimeout(r, 300));
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'POST', url: `/sessions/${SES}/transfers` });
    expect(events).toHaveLength(1);
  });

  it('sends createSession and login that time out exactly once', async () => {
    const { client, server } = await setup(never, { timeoutMs: 200, retries: 2 });
    await expect(client.createSession({ currency: 'AED', amount: 100 })).rejects.toMatchObject({ kind: 'timeout' });
    await expect(client.login(SES, { credentials: { login: 'test', password: 'pw' } })).rejects.toMatchObject({ kind: 'timeout' });
    await new Promise((r) => setTimeout(r, 250));
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'POST']);
  });
});

describe('unreachable', () => {
  it('a socket destroyed before any answer → unreachable', async () => {
    const { client, server, events } = await setup((req) => req.socket.destroy(), { retries: 0 });
    const error = await failure(client.getSession(SES));
    expect(error).toBeInstanceOf(VerifyError);
    expect(error).toMatchObject({ kind: 'unreachable', operation: 'getSession' });
    expect(error.status).toBeUndefined();
    expect(server.requests).toHaveLength(1);
    expect(events).toEqual([expect.objectContaining({ outcome: 'unreachable' })]);
  });

  it('a socket destroyed in the middle of the body → unreachable', async () => {
    const { client } = await setup(
      (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
        res.write('{"id":"ses_2Ocvnws4y3Yr",', () => setTimeout(() => req.socket.destroy(), 20));
      },
      { retries: 0 },
    );
    const error = await failure(client.getSession(SES));
    expect(error).toMatchObject({ kind: 'unreachable', status: 200 });
  });

  it('a GET whose socket is dropped is retried, a POST is not', async () => {
    let n = 0;
    const { client, server } = await setup((req, res) => {
      n += 1;
      if (req.method === 'GET' && n === 1) return void req.socket.destroy();
      if (req.method === 'GET') return sendJson(res, 200, example('bank_accounts_test'));
      req.socket.destroy();
    });
    await expect(client.listBankAccounts(SES)).resolves.toHaveLength(3);
    await expect(client.createTransfer(SES, { source: BA })).rejects.toMatchObject({ kind: 'unreachable', attempts: 1 });
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'POST']);
  });

  it('connection refused → unreachable (GET retried, POST sent once)', async () => {
    const port = await freePort();
    const { client, events } = testClient(`http://127.0.0.1:${port}`, { retries: 2 });
    cleanups.push(() => client.close());
    const error = await failure(client.listBanks());
    expect(error).toMatchObject({ kind: 'unreachable', operation: 'listBanks', detail: 'ECONNREFUSED', attempts: 3 });
    expect(events).toHaveLength(3);
    events.length = 0;
    await expect(client.createSession({ currency: 'AED', amount: 100 })).rejects.toMatchObject({
      kind: 'unreachable',
      attempts: 1,
    });
    expect(events).toEqual([{ operation: 'createSession', outcome: 'unreachable', durationMs: expect.any(Number) }]);
  });

  it('calls after close() fail as unreachable', async () => {
    const { client, server } = await setup((_req, res) => sendJson(res, 200, example('banks_test')));
    await client.listBanks();
    await client.close();
    await client.close(); // idempotent
    const error = await failure(client.listBanks());
    expect(error).toBeInstanceOf(VerifyError);
    expect(error).toMatchObject({ kind: 'unreachable', attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });
});

describe('contract', () => {
  const cases: Array<[string, (res: Parameters<Handler>[1]) => void]> = [
    ['not JSON', (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>')],
    ['not JSON, no content-length', (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id": "tr_');
      res.end('broken');
    }],
    ['an empty body', (res) => res.writeHead(200, { 'content-length': '0' }).end()],
    ['an essential field missing', (res) => {
      const { status: _omit, ...rest } = example('transfer_succeeded');
      sendJson(res, 200, rest);
    }],
    ['a wrong object', (res) => sendJson(res, 200, { ...example('transfer_succeeded'), object: 'session' })],
    ['a bad id', (res) => sendJson(res, 200, { ...example('transfer_succeeded'), id: 'transfer-1' })],
    ['a string amount', (res) => sendJson(res, 200, { ...example('transfer_succeeded'), amount: '100' })],
    ['an array instead of an object', (res) => sendJson(res, 200, [example('transfer_succeeded')])],
  ];
  it.each(cases)('a 200 with %s → contract, not retried', async (_name, respond) => {
    const { client, server, events } = await setup((_req, res) => respond(res));
    const error = await failure(client.getTransfer(TR));
    expect(error).toBeInstanceOf(VerifyError);
    expect(error).toMatchObject({ kind: 'contract', status: 200, operation: 'getTransfer', attempts: 1 });
    expect(server.requests).toHaveLength(1);
    expect(events).toEqual([expect.objectContaining({ outcome: 'contract', status: 200 })]);
  });

  it('names the violation without echoing data', async () => {
    const { client } = await setup((_req, res) =>
      sendJson(res, 200, { ...example('session_initial'), object: 'sk_test_leak' }),
    );
    const error = await failure(client.getSession(SES));
    expect(error.detail).toMatch(/\/object/);
    expect(error.message).not.toContain('sk_test_leak');
    expect(JSON.stringify(error)).not.toContain('sk_test_leak');
  });

  it('ignores unknown fields (Verify may add fields)', async () => {
    const { client } = await setup((_req, res) => sendJson(res, 200, { ...example('transfer_succeeded'), new_field: { x: 1 } }));
    const transfer = example('transfer_succeeded');
    await expect(client.getTransfer(transfer.id)).resolves.toMatchObject({ id: transfer.id, status: 'succeeded' });
  });

  it('a list with one bad element → contract', async () => {
    const accounts = example('bank_accounts_test');
    accounts[1].balance = '100';
    const { client } = await setup((_req, res) => sendJson(res, 200, accounts));
    await expect(client.listBankAccounts(SES)).rejects.toMatchObject({ kind: 'contract', detail: expect.stringContaining('/1/balance') });
  });

  it('a redirect is not followed → contract', async () => {
    const { client, server } = await setup((_req, res) => res.writeHead(302, { location: 'http://127.0.0.1:1/x' }).end());
    await expect(client.getTransfer(TR)).rejects.toMatchObject({ kind: 'contract', status: 302 });
    expect(server.requests).toHaveLength(1);
  });
});

describe('status mapping and retries', () => {
  it('retries a GET on 503, then succeeds', async () => {
    const { client, server, events } = await setup((_req, res, _body, i) =>
      i === 0 ? sendJson(res, 503, { object: 'error', message: 'busy' }) : sendJson(res, 200, example('transfer_succeeded')),
    );
    await expect(client.getTransfer(TR)).resolves.toEqual(example('transfer_succeeded'));
    expect(server.requests).toHaveLength(2);
    expect(events.map((e) => [e.outcome, e.status])).toEqual([
      ['server', 503],
      ['ok', 200],
    ]);
  });

  it('retries a verification PUT on 502 and 504 with the same body', async () => {
    const statuses = [502, 504];
    const { client, server } = await setup((_req, res, _body, i) =>
      i < statuses.length
        ? res.writeHead(statuses[i] ?? 500, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>')
        : sendJson(res, 200, example('session_verification_succeeded')),
    );
    await expect(client.submitVerification({ type: 'session', sessionId: SES }, VRF, { challenge_response: '1234' })).resolves.toMatchObject({
      object: 'verification',
      status: 'succeeded',
    });
    expect(server.requests).toHaveLength(3);
    expect(new Set(server.requests.map((r) => r.body)).size).toBe(1);
  });

  it('gives up after `retries` retries and reports the last answer', async () => {
    const { client, server } = await setup((_req, res) => sendJson(res, 503, { object: 'error', message: 'down' }), { retries: 1 });
    await expect(client.listBanks()).rejects.toMatchObject({ kind: 'server', status: 503, verifyMessage: 'down', attempts: 2 });
    expect(server.requests).toHaveLength(2);
  });

  it('does not retry 500 or 4xx', async () => {
    let status = 500;
    const { client, server } = await setup((_req, res) => sendJson(res, status, { object: 'error', message: `status ${status}` }));
    await expect(client.getSession(SES)).rejects.toMatchObject({ kind: 'server', status: 500, verifyMessage: 'status 500' });
    status = 404;
    await expect(client.getSession(SES)).rejects.toMatchObject({ kind: 'rejected', status: 404, verifyMessage: 'status 404' });
    status = 429;
    await expect(client.getSession(SES)).rejects.toMatchObject({ kind: 'rejected', status: 429 });
    expect(server.requests).toHaveLength(3);
  });

  it('a 4xx without a JSON error body → rejected without verifyMessage; long messages are truncated', async () => {
    let body: string | object = 'plain text';
    const { client } = await setup((_req, res) =>
      typeof body === 'string' ? res.writeHead(422, { 'content-type': 'text/plain' }).end(body) : sendJson(res, 422, body),
    );
    const plain = await failure(client.getTransfer(TR));
    expect(plain).toMatchObject({ kind: 'rejected', status: 422 });
    expect(plain.verifyMessage).toBeUndefined();
    body = { object: 'error', message: 'x'.repeat(5000) };
    const long = await failure(client.getTransfer(TR));
    expect(long.verifyMessage.length).toBeLessThanOrEqual(200);
  });

  it('a throwing onCall does not break calls', async () => {
    const server = await startServer((_req, res) => sendJson(res, 200, example('banks_test')));
    const { client } = testClient(server.url, {
      onCall: () => {
        throw new Error('metrics down');
      },
    });
    cleanups.push(() => server.close(), () => client.close());
    await expect(client.listBanks()).resolves.toHaveLength(1);
  });
});

describe('requests', () => {
  function record(server: TestServer) {
    return server.requests.map((r) => ({
      method: r.method,
      url: r.url,
      auth: r.headers.authorization,
      type: r.headers['content-type'],
      body: r.body ? JSON.parse(r.body) : undefined,
    }));
  }

  it('sends Token <secret key> or Token <public key> as the spec requires, and JSON bodies', async () => {
    const { client, server } = await setup((req, res) => {
      const url = req.url ?? '';
      if (url === '/banks') return sendJson(res, 200, example('banks_test'));
      if (url === '/sessions') return sendJson(res, 200, example('session_initial'));
      if (url.endsWith('/login')) return sendJson(res, 200, example('session_connected'));
      if (url.endsWith('/bank_accounts')) return sendJson(res, 200, example('bank_accounts_test'));
      if (url.includes('/verifications/') && url.startsWith('/sessions')) return sendJson(res, 200, example('session_verification_succeeded'));
      if (url.includes('/verifications/')) return sendJson(res, 200, example('transfer_verification_succeeded'));
      if (url.endsWith('/transfers')) {
        return req.method === 'POST' ? sendJson(res, 200, example('transfer_succeeded')) : sendJson(res, 200, example('transfer_list_one'));
      }
      if (url.startsWith('/sessions/')) {
        return url.includes('/transfers/') ? sendJson(res, 200, example('transfer_succeeded')) : sendJson(res, 200, example('session_connected'));
      }
      return sendJson(res, 200, example('transfer_succeeded'));
    });
    await client.listBanks();
    await client.createSession({ currency: 'BHD', amount: 100, description: 'NA' });
    await client.getSession(SES);
    await client.login(SES, { credentials: { login: 'test', password: 'pw' } });
    await client.login(SES, { bank_id: 'other_bank', credentials: { login: 'test', password: 'pw' } });
    await client.listBankAccounts(SES);
    await client.createTransfer(SES, { source: BA });
    await client.listSessionTransfers(SES);
    await client.getSessionTransfer(SES, TR);
    await client.getTransfer(TR);
    await client.submitVerification({ type: 'session', sessionId: SES }, VRF, { challenge_response: '1234' });
    await client.submitVerification({ type: 'transfer', transferId: TR }, VRF, { answers: ['ruby', 'vim'] });

    const secret = `Token ${SECRET_KEY}`;
    const pub = `Token ${PUBLIC_KEY}`;
    const json = 'application/json';
    expect(record(server)).toEqual([
      { method: 'GET', url: '/banks', auth: pub, type: undefined, body: undefined },
      { method: 'POST', url: '/sessions', auth: secret, type: json, body: { currency: 'BHD', amount: 100, description: 'NA' } },
      { method: 'GET', url: `/sessions/${SES}`, auth: secret, type: undefined, body: undefined },
      { method: 'POST', url: `/sessions/${SES}/login`, auth: pub, type: json, body: { bank_id: 'test_bank', credentials: { login: 'test', password: 'pw' } } },
      { method: 'POST', url: `/sessions/${SES}/login`, auth: pub, type: json, body: { bank_id: 'other_bank', credentials: { login: 'test', password: 'pw' } } },
      { method: 'GET', url: `/sessions/${SES}/bank_accounts`, auth: pub, type: undefined, body: undefined },
      { method: 'POST', url: `/sessions/${SES}/transfers`, auth: pub, type: json, body: { source: BA } },
      { method: 'GET', url: `/sessions/${SES}/transfers`, auth: secret, type: undefined, body: undefined },
      { method: 'GET', url: `/sessions/${SES}/transfers/${TR}`, auth: secret, type: undefined, body: undefined },
      { method: 'GET', url: `/transfers/${TR}`, auth: secret, type: undefined, body: undefined },
      { method: 'PUT', url: `/sessions/${SES}/verifications/${VRF}`, auth: pub, type: json, body: { challenge_response: '1234' } },
      { method: 'PUT', url: `/transfers/${TR}/verifications/${VRF}`, auth: pub, type: json, body: { answers: ['ruby', 'vim'] } },
    ]);
  });

  it('test headers cannot replace Authorization', async () => {
    const { client, server } = await setup((_req, res) => sendJson(res, 200, example('banks_test')), {
      headers: () => ({ Authorization: 'Token nope', authorization: 'Token nope', 'Content-Type': 'text/plain', Prefer: 'code=200' }),
    });
    await client.listBanks();
    expect(server.requests[0]?.headers.authorization).toBe(`Token ${PUBLIC_KEY}`);
    expect(server.requests[0]?.headers.prefer).toBe('code=200');
  });

  it('reuses keep-alive connections for sequential calls', async () => {
    const { client, server } = await setup((_req, res) => sendJson(res, 200, example('banks_test')));
    for (let i = 0; i < 20; i++) await client.listBanks();
    expect(server.requests).toHaveLength(20);
    // undici may hand the next request to a second socket while the first one is being
    // released; it never opens one per call
    expect(server.connections).toBeLessThanOrEqual(2);
    expect(new Set(server.requests.map((r) => r.headers.connection ?? 'keep-alive'))).toEqual(new Set(['keep-alive']));
  });

  it('bounds the pool, and close() closes it', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const { client, server } = await setup(
      async (_req, res) => {
        await gate;
        sendJson(res, 200, example('banks_test'));
      },
      { connections: 3 },
    );
    const calls = Array.from({ length: 8 }, () => client.listBanks());
    await new Promise((r) => setTimeout(r, 200));
    expect(server.connections).toBe(3);
    release();
    await Promise.all(calls);
    expect(server.requests).toHaveLength(8);
    expect(server.connections).toBe(3);
    expect(server.openConnections()).toBe(3);
    await client.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(server.openConnections()).toBe(0);
  });

  it('refuses malformed ids before sending anything', async () => {
    const { client, server, events } = await setup((_req, res) => sendJson(res, 200, {}));
    for (const call of [
      () => client.getSession('../banks'),
      () => client.getTransfer('tr_sh-rt'),
      () => client.createTransfer(SES, { source: 'ba_../../x/yy' }),
      () => client.submitVerification({ type: 'transfer', transferId: TR }, 'vrf_%2F%2E%2E%2Fbanks', { challenge_response: '1' }),
    ]) {
      await expect(call()).rejects.toMatchObject({ kind: 'rejected', attempts: 0 });
    }
    expect(server.requests).toHaveLength(0);
    expect(events).toHaveLength(0);
  });
});
