/**
 * `npm run mock:operator` (scripts/mock.sh operator) serves spec/operator.yaml offline under
 * /operator/v1: every documented status of every operation answers a body that matches
 * its schema (JSON) or is the named example (CSV, XML), with the media type the contract
 * gives; without a Bearer key it answers 401 with the contract error body.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnServer, type SpawnedServer } from '../helpers/prism.js';
import { loadSpec, type Json, type JsonObject, type Operation } from '../helpers/spec.js';

const spec = loadSpec('operator');
const BASE = '/operator/v1';

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The operation's URL: path parameters and required query parameters from their examples. */
function urlOf(op: Operation): string {
  const path = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const p = op.parameters.find((x) => x.in === 'path' && x.name === name);
    if (!p || typeof p.example !== 'string') throw new Error(`${op.path}: path parameter ${name} has no example`);
    return encodeURIComponent(p.example);
  });
  const query = new URLSearchParams();
  for (const p of op.parameters) if (p.in === 'query' && p.required === true) query.set(String(p.name), String(p.example));
  return `${BASE}${path}${query.size ? `?${query}` : ''}`;
}

function requestExample(op: Operation): Json | undefined {
  const body = spec.resolve(op.op.requestBody).value;
  const media = isObject(body) && isObject(body.content) ? body.content['application/json'] : undefined;
  if (!isObject(media) || !isObject(media.examples)) return undefined;
  const ex = spec.resolve(Object.values(media.examples)[0]).value;
  return isObject(ex) ? ex.value : undefined;
}

/** Media type and first named example of a documented response. */
function documented(op: Operation, status: string): { mediaType: string; example: Json | undefined } {
  const response = spec.resolve(spec.at(`${op.pointer}/responses/${status}`)).value;
  if (!isObject(response) || !isObject(response.content)) throw new Error(`${op.operationId} ${status}: no content`);
  const [mediaType, media] = Object.entries(response.content)[0]!;
  const first = isObject(media) && isObject(media.examples) ? spec.resolve(Object.values(media.examples)[0]).value : undefined;
  return { mediaType, example: isObject(first) ? first.value : undefined };
}

describe('npm run mock:operator', () => {
  let server: SpawnedServer;
  let origin: string;
  const tmp = mkdtempSync(join(tmpdir(), 'mock-operator-test-'));

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    server = await spawnServer({ command: 'bash', args: ['scripts/mock.sh', 'operator', String(port)], port, what: 'scripts/mock.sh operator', env: { ...process.env, TMPDIR: tmp } });
  });
  afterAll(async () => {
    await server?.stop();
    expect(readdirSync(tmp)).toEqual([]); // the prefixed copy of the spec is removed on stop
    rmSync(tmp, { recursive: true, force: true });
  });

  const ops = spec.operations();
  it('has every operation of the issue, each with an operationId', () => {
    expect(ops.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort()).toEqual(
      [
        'GET /audit', 'GET /batches/{batch_id}', 'GET /batches/{batch_id}/csv', 'GET /batches/{batch_id}/pain001', 'GET /customers/pseudonym',
        'GET /movements', 'GET /movements/{movement_id}', 'GET /obligations', 'GET /reconciliations/{date}', 'GET /reconciliations/{date}/csv',
        'GET /summary', 'POST /batches', 'POST /batches/{batch_id}/paid', 'POST /obligations/{obligation_id}/returned', 'POST /reconciliations',
      ].sort(),
    );
    for (const op of ops) expect(op.operationId, op.path).toMatch(/^[a-z][A-Za-z0-9]+$/);
  });

  const cases = ops.flatMap((op) => op.statuses.map((status) => [`${op.operationId} → ${status}`, op, status] as const));
  it.each(cases)('%s', async (_name, op, status) => {
    const { mediaType, example } = documented(op, status);
    const body = requestExample(op);
    const res = await fetch(origin + urlOf(op), {
      method: op.method.toUpperCase(),
      headers: { authorization: 'Bearer operator-test-key', accept: mediaType, prefer: `code=${status}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    expect(res.status, `${text}\n--- Prism ---\n${server.output().slice(-2000)}`).toBe(Number(status));
    expect(res.headers.get('content-type') ?? '').toContain(mediaType);
    if (mediaType === 'application/json') {
      const r = spec.validateResponse(op.path, op.method, status, JSON.parse(text));
      expect(r.valid, `${op.operationId} ${status}: ${r.message}\nbody: ${text}`).toBe(true);
    } else {
      expect(text).toBe(example);
    }
  });

  it('answers 401 with the contract error body without a Bearer key', async () => {
    const res = await fetch(`${origin}${BASE}/summary`);
    expect(res.status).toBe(401);
    spec.assertResponse('/summary', 'get', 401, await res.json());
  });

  it('serves only under /operator/v1', async () => {
    const res = await fetch(`${origin}/summary`, { headers: { authorization: 'Bearer k' } });
    await res.arrayBuffer();
    expect(res.status).toBe(404);
  });

  it('serves the four-eyes refusal by name', async () => {
    const res = await fetch(`${origin}${BASE}/batches/bt-1/paid`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json', prefer: 'code=403, example=four_eyes' },
      body: JSON.stringify({ bank_reference: 'FT1' }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'four_eyes' });
  });
});
