/**
 * The pieces the second performance pass put on every request's path, each against what it
 * replaced: the in-process rate limiter (@fastify/rate-limit's window semantics), the
 * versioned ledger cache, the log destination (every line, in order, also at exit), the
 * access lines (byte for byte pino's), request.log made only when used, and SQLite rows
 * built from raw arrays (the same objects better-sqlite3 makes).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { AccessLogController } from '../../src/http/logging/access-log.js';
import { loggerOptions } from '../../src/http/logging/redaction.js';
import { loadConfig } from '../../src/config.js';
import { LineWriter } from '../../src/http/logging/destination.js';
import { lazyChildLogger } from '../../src/http/logging/request-logger.js';
import { RateLimiter } from '../../src/http/rate-limit.js';
import { VersionedCache } from '../../src/adapters/store/versioned-cache.js';
import { Store } from '../../src/adapters/store/store.js';

const dir = mkdtempSync(join(tmpdir(), 'hot-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RateLimiter', () => {
  it('counts a fixed window per key from its first request, then opens a new one', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(60_000, 10_000, () => now);
    for (let i = 0; i < 3; i++) expect(limiter.hit('token:a', 3).allowed).toBe(true);
    const refused = limiter.hit('token:a', 3);
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect(limiter.hit('token:b', 3).allowed).toBe(true); // its own budget
    now += 59_001;
    expect(limiter.hit('token:a', 3)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 999; // the window has ended
    expect(limiter.hit('token:a', 3).allowed).toBe(true);
  });

  it('forgets ended windows and keeps at most maxKeys keys', () => {
    let now = 0;
    const limiter = new RateLimiter(1_000, 3, () => now);
    for (const key of ['a', 'b', 'c', 'd']) limiter.hit(key, 1);
    expect(limiter.size).toBe(3); // 'a', the oldest, went
    expect(limiter.hit('a', 1).allowed).toBe(true);
    now = 5_000;
    limiter.hit('e', 1); // a sweep runs once per window
    expect(limiter.size).toBe(1);
  });
});

describe('VersionedCache', () => {
  it('answers only for the version a value was read at, and stays within its weight', () => {
    const cache = new VersionedCache<string>(12, (value) => value.length);
    cache.set('k1', 1, 'one');
    expect(cache.get('k1', 1)).toBe('one');
    expect(cache.get('k1', 2)).toBeUndefined();
    expect(cache.get('k1', 1)).toBeUndefined(); // a stale value is dropped, not kept
    for (const key of ['k1', 'k2', 'k3', 'k4']) cache.set(key, 2, 'abc');
    cache.get('k1', 2); // k1 used last: k2 is now the least recently used
    cache.set('k5', 2, 'abc');
    expect(cache.get('k2', 2)).toBeUndefined();
    expect(cache.get('k1', 2)).toBe('abc');
    cache.set('big', 2, 'abcd'); // over a quarter of the weight: not kept
    expect(cache.get('big', 2)).toBeUndefined();
  });
});

describe('LineWriter', () => {
  it('writes every line in order, one write per event-loop turn', async () => {
    const file = join(dir, 'lines.log');
    const fd = openSync(file, 'w');
    const writer = new LineWriter(fd);
    const lines = Array.from({ length: 1000 }, (_, i) => `{"n":${i}}\n`);
    for (const line of lines.slice(0, 500)) writer.write(line);
    expect(readFileSync(file, 'utf8')).toBe(''); // not yet: at the end of the turn
    await new Promise((resolve) => setImmediate(resolve));
    for (const line of lines.slice(500)) writer.write(line);
    writer.flushSync();
    expect(readFileSync(file, 'utf8')).toBe(lines.join(''));
    closeSync(fd);
  });

  it('writes what is left when the process exits', () => {
    const file = join(dir, 'exit.log');
    const script = join(dir, 'exit.ts');
    writeFileSync(
      script,
      `import { openSync } from 'node:fs';
       import { LineWriter } from ${JSON.stringify(join(process.cwd(), 'src/http/logging/destination.ts'))};
       const w = new LineWriter(openSync(${JSON.stringify(file)}, 'w'));
       w.write('first\\n'); w.write('last\\n');
       process.exit(3);`,
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(3);
    expect(readFileSync(file, 'utf8')).toBe('first\nlast\n');
  });
});

describe('access lines', () => {
  /** The two lines of one request as written, with the time fields made comparable. */
  async function accessLinesOf(fast: boolean, request: { url: string; headers: Record<string, string> }) {
    const lines: string[] = [];
    const controller = new AccessLogController({ requestIdLogLabel: 'request_id' });
    const options = { ...(loggerOptions(loadConfig({ LOG_LEVEL: 'info' })) as object), stream: { write: (line: string) => void lines.push(line) } };
    const app = Fastify({ logger: options, logController: controller, genReqId: () => 'id "with" \\ quotes' } as never);
    controller.useLogger(app.log);
    if (!fast) (controller as unknown as { lines: unknown }).lines = undefined;
    app.post('/api/x', async () => ({ ok: true }));
    await app.inject({ method: 'POST', url: request.url, headers: { 'content-type': 'application/json', ...request.headers }, payload: '{}' });
    await app.close();
    return lines.map((line) => line.replace(/"time":\d+/, '"time":0').replace(/"responseTime":[\d.e-]+/, '"responseTime":0'));
  }

  it('are rendered here exactly as pino renders them', async () => {
    const requests: { url: string; headers: Record<string, string> }[] = [
      { url: '/api/x', headers: {} },
      { url: '/api/x?q="a"\\b%C3%A9\u00e9', headers: { 'accept-version': '2', host: 'h"ost' } },
    ];
    for (const request of requests) {
      const [fast, pino] = [await accessLinesOf(true, request), await accessLinesOf(false, request)];
      expect(fast.length).toBe(2);
      expect(fast).toEqual(pino);
      expect(JSON.parse(fast[0]!)).toMatchObject({ level: 30, request_id: 'id "with" \\ quotes', msg: 'incoming request', req: { method: 'POST' } });
    }
  });
});

describe('request.log', () => {
  it('is made only when a line at an enabled level is logged, with the request_id bound', async () => {
    const lines: string[] = [];
    const options = { ...(loggerOptions(loadConfig({ LOG_LEVEL: 'info' })) as object), stream: { write: (line: string) => void lines.push(line) } };
    const app = Fastify({ logger: options, childLoggerFactory: lazyChildLogger, genReqId: () => 'rid-7', requestIdLogLabel: 'request_id', disableRequestLogging: true } as never);
    let made = 0;
    const child = app.log.child.bind(app.log);
    (app.log as { child: unknown }).child = (...args: Parameters<typeof child>) => (made++, child(...args));
    app.post('/quiet', async (request) => ({ enabled: (request.log as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled('debug') }));
    app.post('/debug', async (request) => (request.log.debug({ x: 1 }, 'not at info'), {}));
    app.post('/loud', async (request) => (request.log.info({ password: 'hunter2' }, 'hello'), {}));
    expect((await app.inject({ method: 'POST', url: '/quiet' })).json()).toEqual({ enabled: false });
    await app.inject({ method: 'POST', url: '/debug' });
    expect(made).toBe(0);
    await app.inject({ method: 'POST', url: '/loud' });
    expect(made).toBe(1);
    await app.close();
    expect(lines.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ request_id: 'rid-7', msg: 'hello', password: '[redacted]' })]);
  });
});

describe('SQLite rows', () => {
  it('are the objects better-sqlite3 would make', async () => {
    const file = join(dir, 'rows.db');
    const store = await Store.open(`sqlite:${file}`);
    await store.upsertProfile({ user_id: 'usr_1', first_name: 'A', last_name: null, full_name: 'A' }, 42);
    const viaStore = await store.getProfile('usr_1');
    await store.close();
    const plain = new Database(file).prepare('select * from "profiles" where "user_id" = ?').get('usr_1');
    expect(viaStore).toStrictEqual(plain);
    expect(Object.keys(viaStore!)).toEqual(Object.keys(plain as object));
  });
});
