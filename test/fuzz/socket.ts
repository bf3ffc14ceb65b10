/**
 * Raw-socket cases: broken HTTP, oversized headers and bodies, slow and truncated bodies,
 * bad chunked encoding, lying Content-Length, and byte-level mutations of a good request.
 * Whatever arrives, an answer (if any) carries the spec's error body and the server keeps
 * serving the next client.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
// the suite's afterAll (app.close()) stops the listener
import { beforeAll, expect, it } from 'vitest';
import { TEST_SECRET } from '../helpers/connector.js';
import { loadSpec } from '../helpers/spec.js';
import type { Tally } from './harness.js';

const kasisto = loadSpec('kasisto');
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const SCALE = Number(process.env.FUZZ_SCALE ?? '1');

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface Exchange {
  responses: RawResponse[];
  /** The server closed the connection (or reset it). */
  closed: boolean;
}

/** Splits what the server wrote into HTTP/1.1 responses (Content-Length or chunked bodies). */
export function parseResponses(data: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = data;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    if (!status) throw new Error(`not an HTTP response: ${JSON.stringify(rest.subarray(0, 200).toString('latin1'))}`);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    rest = rest.subarray(end + 4);
    let body: Buffer = Buffer.alloc(0);
    if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        if (lineEnd < 0) break;
        const size = parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
        rest = rest.subarray(lineEnd + 2);
        if (size === 0) {
          rest = rest.subarray(2);
          break;
        }
        parts.push(rest.subarray(0, size));
        rest = rest.subarray(size + 2);
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      body = rest.subarray(0, n);
      rest = rest.subarray(n);
    }
    out.push({ status, headers, body: body.toString('utf8') });
  }
  return out;
}

/**
 * Writes the pieces (pausing between them when asked), then waits until the server closes,
 * `expect` responses arrived, or `waitMs` passed.
 */
export function exchange(port: number, pieces: (string | Buffer)[], opts: { pauseMs?: number; expect?: number; waitMs?: number; end?: boolean } = {}): Promise<Exchange> {
  const { pauseMs = 0, expect: wanted = 1, waitMs = 3000, end = false } = opts;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let closed = false;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve({ responses: parseResponses(Buffer.concat(chunks)), closed });
      } catch (error) {
        reject(error);
      }
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (d) => {
      chunks.push(d);
      try {
        if (parseResponses(Buffer.concat(chunks)).length >= wanted) setTimeout(finish, 20);
      } catch {
        // incomplete: wait for more
      }
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('error', () => {
      closed = true;
    });
    socket.on('connect', async () => {
      for (const piece of pieces) {
        if (socket.destroyed) break;
        socket.write(piece);
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      }
      if (end && !socket.destroyed) socket.end();
    });
  });
}

export interface SocketContext {
  app: FastifyInstance;
  tally: Tally;
  token: string;
  userId: string;
  bodyLimit: number;
}

/** The answer carries the spec's error body (for a status the spec documents) and leaks nothing. */
function expectErrorBody(res: RawResponse, path = '/customer'): void {
  expect(res.headers['content-type'] ?? '', `content-type of ${res.status}`).toMatch(/^application\/json/);
  const body = JSON.parse(res.body) as { code?: string; message?: string };
  const documented = kasisto.findOperation(path, 'post')?.statuses.includes(String(res.status));
  const result = documented ? kasisto.validateResponse(path, 'post', res.status, body) : kasisto.validateSchema('error_response', body);
  expect(result.valid, `${res.status} ${res.body}: ${result.message}`).toBe(true);
  expect(body.message?.trim(), res.body).toBeTruthy();
  expect(res.body).not.toMatch(/\n\s+at |node_modules|FST_|HPE_|Error:/);
}

export function socketCases(context: () => SocketContext): void {
  let port = 0;
  let ctx: SocketContext;

  beforeAll(async () => {
    ctx = context();
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    port = (ctx.app.server.address() as AddressInfo).port;
  });

  const good = (body = JSON.stringify({ user_id: ctx.userId }), extra = '') =>
    `POST /api/customer HTTP/1.1\r\nHost: 127.0.0.1\r\nsecret: ${TEST_SECRET}\r\ntoken: ${ctx.token}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

  async function send(label: string, pieces: (string | Buffer)[], opts?: Parameters<typeof exchange>[2]): Promise<Exchange> {
    const result = await exchange(port, pieces, opts);
    const final = result.responses.filter((r) => r.status >= 200);
    if (final.length === 0) ctx.tally.count('rawSocket', 'no answer');
    for (const r of final) ctx.tally.count('rawSocket', r.status);
    for (const r of result.responses) {
      expect(r.status, `${label}: ${r.status} ${r.body}`).toBeLessThan(500);
      expectErrorBodyUnlessOk(r);
    }
    return result;
  }

  function expectErrorBodyUnlessOk(r: RawResponse) {
    if (r.status === 200 || r.status < 200) return;
    expectErrorBody(r);
  }

  /** The server still answers a normal request on a new connection. */
  async function healthy(): Promise<void> {
    const { responses } = await exchange(port, [good(undefined, 'connection: close\r\n')]);
    expect(responses[0]?.status, 'server still serves after the case').toBe(200);
  }

  const cases: [string, () => (string | Buffer)[], number | 'none' | number[], Parameters<typeof exchange>[2]?][] = [
    ['garbage request line', () => ['GARBAGE\r\n\r\n'], 400],
    ['binary noise', () => [Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10])], 400],
    ['unknown HTTP version', () => ['POST /api/customer HTTP/9.9\r\nHost: x\r\n\r\n'], [400, 505]],
    ['header line without colon', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n`], 400],
    ['NUL in a header value', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: a\u0000b\r\n\r\n`], 400],
    ['obsolete header folding', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\n  folded\r\n\r\n`], 400],
    ['space before the colon', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret : ${TEST_SECRET}\r\n\r\n`], 400],
    ['missing Host on HTTP/1.1', () => [`POST /api/customer HTTP/1.1\r\nsecret: ${TEST_SECRET}\r\ncontent-length: 2\r\n\r\n{}`], 400],
    ['NUL in the URL', () => [`POST /api/cus\u0000tomer HTTP/1.1\r\nHost: x\r\n\r\n`], 400],
    ['headers over 16 KB', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\nx-big: ${'a'.repeat(17 * 1024)}\r\n\r\n`], 431],
    ['many small headers over 16 KB', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `x-h${i}: v`).join('\r\n')}\r\n\r\n`], 431],
    ['a URL over 16 KB', () => [`POST /api/${'a'.repeat(17 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`], 431],
    ['invalid chunk size', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\ntoken: ${ctx.token}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`], 400],
    ['chunk longer than announced', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\ntoken: ${ctx.token}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n1\r\n{}}}\r\n0\r\n\r\n`], 400],
    ['chunked then closed mid-chunk', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\ntoken: ${ctx.token}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nff\r\n{"user_id"`], 'none', { end: true, waitMs: 1500 }],
    ['Transfer-Encoding and Content-Length together', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`], 400],
    ['unknown Transfer-Encoding', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\ntransfer-encoding: gzip, chunked2\r\n\r\n`], [400, 501]],
    ['non-numeric Content-Length', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\ncontent-length: abc\r\n\r\n{}`], 400],
    ['negative Content-Length', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\ncontent-length: -1\r\n\r\n{}`], 400],
    ['two different Content-Lengths', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{} `], 400],
    ['Content-Length shorter than the body', () => [good(JSON.stringify({ user_id: ctx.userId }), '').replace(/content-length: \d+/, 'content-length: 5')], 400, { expect: 2, waitMs: 1500 }],
    ['Content-Length longer than the body, then closed', () => [good(JSON.stringify({ user_id: ctx.userId })).replace(/content-length: \d+/, 'content-length: 500')], 'none', { end: true, waitMs: 1500 }],
    ['Content-Length over the body limit', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\ntoken: ${ctx.token}\r\ncontent-type: application/json\r\ncontent-length: ${ctx.bodyLimit + 1}\r\n\r\n{"user_id":`], 413],
    ['a body over the limit', () => [good(JSON.stringify({ user_id: ctx.userId, pad: 'x'.repeat(ctx.bodyLimit) }))], 413],
    ['a chunked body over the limit', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\ntoken: ${ctx.token}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`, ...Array.from({ length: 5 }, () => `${(ctx.bodyLimit / 4).toString(16)}\r\n${'x'.repeat(ctx.bodyLimit / 4)}\r\n`), '0\r\n\r\n'], 413],
    ['a body over the limit without the secret', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${ctx.bodyLimit * 2}\r\n\r\n{}`], 401],
    ['a slow body, byte by byte', () => [...good().match(/[\s\S]{1,40}/g)!], 200, { pauseMs: 15, waitMs: 10_000 }],
    ['Expect: 100-continue', () => [good(undefined, 'expect: 100-continue\r\n')], [100, 200], { expect: 2 }],
    ['three pipelined requests', () => [good() + good() + good(undefined, 'connection: close\r\n')], [200, 200, 200], { expect: 3 }],
    ['HTTP/1.0 without Host', () => [`POST /api/customer HTTP/1.0\r\nsecret: ${TEST_SECRET}\r\ntoken: ${ctx.token}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`], 200],
    ['an absolute-form URL', () => [good().replace('POST /api/customer', 'POST http://evil.example/api/customer')], 200],
    // the router strips scheme and host: the secret must still be checked
    ['an absolute-form URL without the secret', () => [good().replace('POST /api/customer', 'POST http://evil.example/api/customer').replace(/secret: .*\r\n/, '')], 401],
    ['an upper-case absolute-form URL without the secret', () => [good().replace('POST /api/customer', 'POST HTTPS://evil.example:1/api/token').replace(/secret: .*\r\n/, '')], 401],
    ['the secret sent twice', () => [good().replace(/(secret: .*\r\n)/, '$1$1')], 401],
    ['a right and a wrong secret', () => [good().replace(/(secret: .*\r\n)/, '$1secret: wrong\r\n')], 401],
    ['the token sent twice', () => [good().replace(/(token: .*\r\n)/, '$1$1')], 403],
    ['two Content-Types', () => [good().replace(/(content-type: .*\r\n)/, '$1content-type: text/plain\r\n')], 200],
    ['a request that never ends its headers, then closes', () => [`POST /api/customer HTTP/1.1\r\nHost: x\r\nsecret: ${TEST_SECRET}\r\n`], 'none', { end: true, waitMs: 1500 }],
  ];

  for (const [label, pieces, expected, opts] of cases) {
    it(`raw: ${label}`, async () => {
      const statuses = Array.isArray(expected) ? expected : expected === 'none' ? [] : [expected];
      const result = await send(label, pieces(), { expect: Math.max(1, statuses.length), ...opts });
      const got = result.responses.map((r) => r.status);
      if (expected === 'none') {
        // an incomplete request may get a 400 or nothing, never anything else
        for (const s of got) expect(s, label).toBe(400);
      } else if (Array.isArray(expected) && opts?.expect) {
        expect(got, label).toEqual(statuses);
      } else {
        expect(statuses, `${label}: got ${got.join(',')}`).toContain(got[0]);
        // what follows a broken request on the same connection can only be refused
        for (const s of got.slice(1)) expect(s, label).toBe(400);
      }
      await healthy();
    });
  }

  it('raw: byte-level mutations of a good request never get a 5xx nor break the server', async () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom('\r\n', '\r', '\n', ':', ' ', '\u0000', '\r\n\r\n', 'chunked', '999999', '{', '"', '\t') }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        let bytes = Buffer.from(good(undefined, 'connection: close\r\n'), 'latin1');
        for (const m of mutations) {
          const at = m.at % (bytes.length + 1);
          if (m.kind === 'flip' && at < bytes.length) bytes[at] = m.byte;
          if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text, 'latin1'), bytes.subarray(at)]);
          if (m.kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
        }
        // end(): a request whose Content-Length now overstates its body must not wait 30 s
        await send('mutation', [bytes], { end: true, waitMs: 2000, expect: 1 });
      }),
      { numRuns: Math.max(1, Math.round(150 * SCALE)), ...(SEED === undefined ? {} : { seed: SEED }) },
    );
    await healthy();
  }, 120_000);
}
