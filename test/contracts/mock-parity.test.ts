/**
 * The Kasisto mock (`npm run mock:kasisto`: Prism behind scripts/mock-front.ts) and the
 * connector agree. One table of requests, built from spec/kasisto.yaml for every operation:
 *
 *   missing secret · missing token (operations that need one) · empty Idempotency-Key
 *   (operations that take one) · invalid JSON · a body that is not an object · a body
 *   missing a required field
 *
 * goes to both, and status and body must be equal. Then `Prefer: code=<status>` for every
 * documented status goes to the mock, which must answer that status with a body valid for it
 * (the front must not get in Prism's way). Last, a SIGTERM to the mock script alone stops
 * Prism too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnServer, type SpawnedServer } from '../helpers/prism.js';
import { TEST_SECRET, startTestConnector, type TestConnector } from '../helpers/connector.js';
import { loadSpec, type JsonObject, type Operation } from '../helpers/spec.js';

const spec = loadSpec('kasisto');
const OPS = spec.operations();

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function requestBodySchema(op: Operation): JsonObject | undefined {
  const body = spec.resolve(op.op.requestBody).value;
  if (!isObject(body) || !isObject(body.content) || !isObject(body.content['application/json'])) return undefined;
  const schema = spec.resolve(body.content['application/json'].schema).value;
  return isObject(schema) ? schema : undefined;
}

function example(op: Operation): JsonObject {
  const body = spec.resolve(op.op.requestBody).value as JsonObject;
  const media = (body.content as JsonObject)['application/json'] as JsonObject;
  const first = isObject(media.examples) ? Object.values(media.examples)[0] : undefined;
  const ex = spec.resolve(first).value;
  const value = isObject(ex) ? ex.value : media.example;
  if (!isObject(value)) throw new Error(`${op.operationId}: no request example`);
  return structuredClone(value);
}

const needsToken = (op: Operation) => {
  const security = (op.op.security ?? spec.doc.security ?? []) as JsonObject[];
  return security.length > 0 && security.every((r) => 'token' in r);
};
const takesIdempotencyKey = (op: Operation) => op.parameters.some((p) => p.in === 'header' && String(p.name).toLowerCase() === 'idempotency-key');

interface Row {
  name: string;
  op: Operation;
  headers: Record<string, string>;
  /** A JSON value, or raw text (invalid JSON). */
  body: unknown;
  raw?: boolean;
}

interface Answer {
  status: number;
  body: unknown;
}

describe('the Kasisto mock answers as the connector does', () => {
  let connector: TestConnector;
  let mock: SpawnedServer;
  let mockUrl: string;
  let user: { userId: string; token: string };

  beforeAll(async () => {
    const port = await freePort();
    mockUrl = `http://127.0.0.1:${port}/api`;
    [connector, mock] = await Promise.all([
      startTestConnector(),
      spawnServer({ command: 'bash', args: ['scripts/mock.sh', 'kasisto', String(port)], port, what: 'scripts/mock.sh kasisto', startupTimeoutMs: 60_000 }),
    ]);
    user = await connector.signIn('test');
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled([connector?.close(), mock?.stop()]);
  });

  /** The table: every refusal the connector makes before its domain code runs. */
  function rows(): Row[] {
    const out: Row[] = [];
    for (const op of OPS) {
      const body = example(op);
      if ('user_id' in body) body.user_id = user.userId; // the connector checks it against the token
      const auth: Record<string, string> = { secret: 'SECRET', ...(needsToken(op) ? { token: user.token } : {}) };
      const name = (what: string) => `${op.operationId} ${op.path}: ${what}`;
      out.push({ name: name('missing secret'), op, headers: { ...auth, secret: '' }, body });
      if (needsToken(op)) out.push({ name: name('missing token'), op, headers: { secret: 'SECRET' }, body });
      if (takesIdempotencyKey(op)) out.push({ name: name('empty Idempotency-Key'), op, headers: { ...auth, 'idempotency-key': '' }, body });
      out.push({ name: name('invalid JSON'), op, headers: auth, body: '{"user_id": ', raw: true });
      out.push({ name: name('body not an object'), op, headers: auth, body: [] });
      const required = ((requestBodySchema(op)?.required ?? []) as string[]).filter((f) => f !== 'user_id');
      if (required.length) {
        const { [required[0]!]: _drop, ...rest } = body;
        out.push({ name: name(`body without ${required[0]}`), op, headers: auth, body: rest });
      }
    }
    return out;
  }

  const headersFor = (row: Row, secret: string) => {
    const h: Record<string, string> = { 'content-type': 'application/json', ...row.headers };
    if (h.secret === 'SECRET') h.secret = secret;
    if (h.secret === '') delete h.secret;
    return h;
  };
  const payload = (row: Row) => (row.raw ? String(row.body) : JSON.stringify(row.body));

  async function toMock(row: Row, extra: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(mockUrl + row.op.path, { method: 'POST', headers: { ...headersFor(row, 'any-secret'), ...extra }, body: payload(row) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async function toConnector(row: Row): Promise<Answer> {
    // not connector.call: it would add the secret to the rows that must lack it
    const res = await connector.app.inject({ method: 'POST', url: `/api${row.op.path}`, headers: headersFor(row, TEST_SECRET), payload: payload(row) });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
  }

  it('covers every operation of the spec with the refusal table', () => {
    const table = rows();
    expect(new Set(table.map((r) => r.op.operationId))).toEqual(new Set(OPS.map((o) => o.operationId)));
    expect(table.some((r) => r.name.endsWith('empty Idempotency-Key'))).toBe(true);
    expect(table.some((r) => r.name.endsWith('missing token'))).toBe(true);
  });

  it('refusals: same status and same error_response from the mock and the connector', async () => {
    const mismatches: string[] = [];
    for (const row of rows()) {
      const [fromMock, fromConnector] = await Promise.all([toMock(row), toConnector(row)]);
      spec.assertResponse(row.op.path, 'post', fromConnector.status, fromConnector.body);
      if (fromMock.status !== fromConnector.status || JSON.stringify(fromMock.body) !== JSON.stringify(fromConnector.body)) {
        mismatches.push(`${row.name}\n  mock:      ${fromMock.status} ${JSON.stringify(fromMock.body)}\n  connector: ${fromConnector.status} ${JSON.stringify(fromConnector.body)}`);
      }
      // each refusal is a 4xx error_response naming what is wrong
      expect(fromConnector.status, row.name).toBeGreaterThanOrEqual(400);
      expect(fromConnector.status, row.name).toBeLessThan(500);
    }
    expect(mismatches, mismatches.join('\n')).toEqual([]);
  }, 60_000);

  it('a valid request with Prefer: code=<status> gets that documented status from Prism, for every status', async () => {
    const failures: string[] = [];
    for (const op of OPS) {
      const row: Row = { name: op.operationId ?? op.path, op, headers: { secret: 'SECRET', ...(needsToken(op) ? { token: 'any-token' } : {}) }, body: example(op) };
      for (const status of op.statuses) {
        const answer = await toMock(row, { prefer: `code=${status}` });
        const r = spec.validateResponse(op.path, 'post', status, answer.body);
        if (answer.status !== Number(status) || !r.valid) failures.push(`${row.name} Prefer code=${status}: ${answer.status} ${r.message}`);
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
  }, 60_000);

  it('a SIGTERM to the mock script alone stops Prism as well', async () => {
    const port = await freePort();
    const single = await spawnServer({ command: 'bash', args: ['scripts/mock.sh', 'kasisto', String(port)], port, what: 'mock.sh', startupTimeoutMs: 60_000 });
    try {
      const prismPort = Number(/Prism on (\d+)/.exec(single.output())?.[1]);
      expect(prismPort, single.output()).toBeGreaterThan(0);
      const pid = Number(/pid (\d+)/.exec(single.output())?.[1]);
      expect(pid, single.output()).toBeGreaterThan(0);
      process.kill(pid, 'SIGTERM'); // the script's own pid, not its group
      const deadline = Date.now() + 10_000;
      let prismUp = true;
      while (prismUp && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        prismUp = await fetch(`http://127.0.0.1:${prismPort}/`).then(
          () => true,
          () => false,
        );
      }
      expect(prismUp, 'Prism still answers after SIGTERM to the mock script').toBe(false);
    } finally {
      await single.stop();
    }
  }, 90_000);
});
