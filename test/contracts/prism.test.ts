/**
 * Prism serves both contracts offline from their named examples, and every documented
 * status of every operation answers a body that matches that status's schema:
 * `Prefer: code=<status>` for each (operation, status), with valid auth headers and the
 * operation's first request example as the body. `Prefer: example=<name>` picks a named
 * example. The Kasisto mock lives under /api (as `npm run mock:kasisto` serves it); every
 * Kasisto revision in spec/kasisto/ is a case of its own.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, PROJECT_ROOT, spawnServer, startPrism, type PrismServer } from '../helpers/prism.js';

const run = promisify(execFile);
import { KASISTO_REVISIONS, loadSpec, pointerOf, type Json, type JsonObject, type LoadedSpec, type Operation } from '../helpers/spec.js';

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value of the first named example of the operation's JSON request body, if any. */
function requestExample(spec: LoadedSpec, op: Operation): Json | undefined {
  const body = spec.resolve(op.op.requestBody).value;
  if (!isObject(body) || !isObject(body.content)) return undefined;
  const media = body.content['application/json'];
  if (!isObject(media)) return undefined;
  const first = isObject(media.examples) ? Object.values(media.examples)[0] : undefined;
  const ex = spec.resolve(first).value;
  return isObject(ex) ? ex.value : media.example;
}

/** The concrete URL path: `{param}` replaced by the parameter's example. */
function concretePath(op: Operation): string {
  return op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const p = op.parameters.find((x) => x.in === 'path' && x.name === name);
    if (!p || typeof p.example !== 'string') throw new Error(`${op.path}: path parameter ${name} has no example`);
    return encodeURIComponent(p.example);
  });
}

/** Credentials for the first security alternative of the operation. */
const AUTH: Record<string, Record<string, string>> = {
  // Kasisto: shared secret + customer token headers.
  secret: { secret: 'kasisto-shared-secret' },
  token: { token: 'P1yJv3kFzfUz_o5NzQIHZqPrexFD0zT2yM3Z0QAPXoA' },
  // Verify: `Authorization: Token <key>`, secret or public key by operation.
  secretKey: { authorization: 'Token sk_test_x' },
  publicKey: { authorization: 'Token pk_test_x' },
};

/** The operation's required header parameters (Kasisto 1.2+: Date, request_id), from their examples. */
function requiredHeaders(op: Operation): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const p of op.parameters) {
    if (p.in !== 'header' || p.required !== true) continue;
    if (typeof p.example !== 'string') throw new Error(`${op.path}: required header ${String(p.name)} has no example`);
    headers[String(p.name).toLowerCase()] = p.example;
  }
  return headers;
}

function authHeaders(spec: LoadedSpec, op: Operation): Record<string, string> {
  const security = (op.op.security ?? spec.doc.security ?? []) as Array<Record<string, unknown>>;
  const headers: Record<string, string> = {};
  for (const scheme of Object.keys(security[0] ?? {})) {
    const h = AUTH[scheme];
    if (!h) throw new Error(`${spec.name}: no test credentials for security scheme ${scheme}`);
    Object.assign(headers, h);
  }
  return headers;
}

async function call(
  prism: PrismServer,
  spec: LoadedSpec,
  op: Operation,
  prefer: string | undefined,
  extraHeaders: Record<string, string> = {},
) {
  const body = requestExample(spec, op);
  const headers: Record<string, string> = { accept: 'application/json', ...requiredHeaders(op), ...authHeaders(spec, op), ...extraHeaders };
  if (prefer) headers.prefer = prefer;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(prism.url + concretePath(op), {
    method: op.method.toUpperCase(),
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, body: json, text, headers: res.headers };
}

/**
 * One case per contract: every Kasisto revision in spec/kasisto/ and Verify. The operations
 * are read from each spec (no counts written here); the statuses are what every operation
 * of that contract promises.
 */
const CASES: Record<string, { file: string; basePath: string; everyOperationHas: string[] }> = {
  ...Object.fromEntries(
    KASISTO_REVISIONS.map((rev) => [
      `kasisto-${rev}`,
      // Kasisto's 200, 401, 403, 500, 501 and the connector's 400, 413, 429, 502–504.
      { file: `spec/kasisto/${rev}.yaml`, basePath: '/api', everyOperationHas: ['200', '400', '401', '403', '413', '429', '500', '501', '502', '503', '504'] },
    ]),
  ),
  verify: {
    file: 'spec/verify.yaml',
    basePath: '',
    everyOperationHas: ['200', '401', '403', '500', '503'],
  },
};

/** Every (path, method) written in the document, counted independently of loadSpec().operations(). */
function documentedOperations(spec: LoadedSpec): string[] {
  const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
  return Object.entries(spec.doc.paths as JsonObject).flatMap(([path, item]) =>
    Object.keys(item as JsonObject).filter((m) => methods.includes(m)).map((m) => `${m.toUpperCase()} ${path}`),
  );
}

for (const [api, c] of Object.entries(CASES)) {
  describe(`Prism mock of ${c.file}`, () => {
    const spec = loadSpec(api);
    let prism: PrismServer;

    beforeAll(async () => {
      prism = await startPrism(c.file);
    });
    afterAll(async () => {
      await prism?.stop();
    });

    it(`serves under '${c.basePath || '/'}' on 127.0.0.1`, () => {
      expect(prism.url).toBe(`http://127.0.0.1:${prism.port}${c.basePath}`);
      expect(prism.basePath).toBe(c.basePath);
    });

    it('exercises every operation of the spec, each with the common statuses', () => {
      const ops = spec.operations();
      expect(ops.length).toBeGreaterThan(0);
      expect(ops.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort()).toEqual(documentedOperations(spec).sort());
      for (const op of ops) expect(op.statuses, `${op.method.toUpperCase()} ${op.path}`).toEqual(expect.arrayContaining([...c.everyOperationHas]));
    });

    const cases = spec.operations().flatMap((op) => op.statuses.map((status) => [op, status] as const));
    it.each(cases.map(([op, status]) => [`${op.operationId} ${op.method.toUpperCase()} ${op.path} → ${status}`, op, status] as const))(
      '%s',
      async (_name, op, status) => {
        const res = await call(prism, spec, op, `code=${status}`);
        expect(res.status, `${res.text}\n--- Prism ---\n${prism.output().slice(-3000)}`).toBe(Number(status));
        const r = spec.validateResponse(op.path, op.method, status, res.body);
        expect(r.valid, `${op.operationId} ${status}: ${r.message}\nbody: ${res.text}`).toBe(true);
      },
    );

    it('answers 401 with the contract error body when credentials are missing', async () => {
      const op = spec.operations()[0]!;
      const res = await fetch(prism.url + concretePath(op), {
        method: op.method.toUpperCase(),
        headers: { 'content-type': 'application/json', ...requiredHeaders(op) },
        ...(requestExample(spec, op) === undefined ? {} : { body: JSON.stringify(requestExample(spec, op)) }),
      });
      expect(res.status).toBe(401);
      spec.assertResponse(op.path, op.method, 401, await res.json());
    });

    it('answers 404 outside the contract paths', async () => {
      const res = await fetch(`${prism.url}/no_such_operation`, { method: 'POST', headers: AUTH.secret });
      await res.arrayBuffer();
      expect(res.status).toBe(404);
    });

    if (api.startsWith('kasisto-')) {
      it('serves named examples with Prefer: example=<name>', async () => {
        const accounts = spec.findOperation('/accounts', 'post')!;
        const one = await call(prism, spec, accounts, 'example=one_account');
        expect(one.status).toBe(200);
        expect(one.body).toEqual(spec.at('/paths/~1accounts/post/responses/200/content/application~1json/examples/one_account/value'));
        expect((one.body as unknown[]).length).toBe(1);

        const none = await call(prism, spec, accounts, 'example=unknown_account');
        expect(none.body).toEqual([]);

        const otp = await call(prism, spec, spec.findOperation('/transfer', 'post')!, 'code=450, example=questions');
        expect(otp.status).toBe(450);
        // 1.0 as seeded: otp_details object; 1.0-final and 1.2: meta pairs; 1.3: otp_details string.
        expect(otp.body).toEqual(spec.at('/components/responses/OtpRequired/content/application~1json/examples/questions/value'));
        expect(otp.body).toMatchObject({ code: 'otp_required' });
        spec.assertResponse('/transfer', 'post', 450, otp.body);
      });

      it('serves the first named example without Prefer', async () => {
        const token = await call(prism, spec, spec.findOperation('/token', 'post')!, undefined);
        expect(token.status).toBe(200);
        expect(token.body).toEqual(spec.at(pointerOf('paths', '/token', 'post', 'responses', '200', 'content', 'application/json', 'examples', 'issued', 'value')));
      });

      it('does not serve the bare paths (partners call /api/...)', async () => {
        const res = await fetch(`${prism.origin}/token`, {
          method: 'POST',
          headers: { ...AUTH.secret, ...requiredHeaders(spec.findOperation('/token', 'post')!), 'content-type': 'application/json' },
          body: '{}',
        });
        await res.arrayBuffer();
        expect(res.status).toBe(404);
      });
    } else {
      it('serves named examples with Prefer: example=<name>', async () => {
        const getSession = spec.findOperation('/sessions/{session_id}', 'get')!;
        const completed = await call(prism, spec, getSession, 'example=completed');
        expect(completed.status).toBe(200);
        expect(completed.body).toMatchObject({ object: 'session', status: 'completed' });

        const login = spec.findOperation('/sessions/{session_id}/login', 'post')!;
        const sms = await call(prism, spec, login, 'example=awaiting_sms');
        expect(sms.body).toEqual((spec.at('/components/examples/session_awaiting_sms') as JsonObject).value);

        const notConnected = await call(prism, spec, spec.findOperation('/sessions/{session_id}/bank_accounts', 'get')!, 'code=422, example=session_not_connected');
        expect(notConnected.status).toBe(422);
        expect(notConnected.body).toEqual({ object: 'error', message: 'Session ses_rDCKbNpZhfzF is not connected' });
      });

      it('accepts a form-encoded body as the contract allows', async () => {
        const res = await fetch(`${prism.url}/sessions`, {
          method: 'POST',
          headers: { ...AUTH.secretKey, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'currency=AED&amount=10000&description=My%20First%20Session',
        });
        expect(res.status).toBe(200);
        spec.assertResponse('/sessions', 'post', 200, await res.json());
      });
    }
  });
}

describe('npm run mock:kasisto (scripts/mock.sh)', () => {
  /** Starts scripts/mock.sh with `args` after `kasisto PORT`, posts the first request example of `path`. */
  async function serve(args: string[], rev: string, path: string) {
    const tmp = mkdtempSync(join(tmpdir(), 'mock-sh-test-'));
    const port = await freePort();
    const spec = loadSpec(`kasisto-${rev}`);
    const op = spec.findOperation(path, 'post')!;
    const server = await spawnServer({
      command: 'bash',
      args: ['scripts/mock.sh', 'kasisto', String(port), ...args],
      port,
      what: `scripts/mock.sh kasisto ${args.join(' ')}`,
      env: { ...process.env, TMPDIR: tmp },
    });
    try {
      // Prism behind scripts/mock-front.ts: the front adds /api itself, no copy of the spec
      const post = (p: string) =>
        fetch(`http://127.0.0.1:${port}${p}`, {
          method: 'POST',
          headers: { ...authHeaders(spec, op), ...requiredHeaders(op), 'content-type': 'application/json' },
          body: JSON.stringify(requestExample(spec, op)),
        });
      const ok = await post(`/api${path}`);
      expect(ok.status).toBe(200);
      spec.assertResponse(path, 'post', 200, await ok.json());
      const bare = await post(path);
      await bare.arrayBuffer();
      expect(bare.status).toBe(404);
    } finally {
      await server.stop();
    }
    // tsx keeps its compile cache in the temp dir (tsx-<uid>); nothing else may be left
    expect(readdirSync(tmp).filter((f) => !f.startsWith('tsx-'))).toEqual([]);
    rmSync(tmp, { recursive: true, force: true });
  }

  it('serves the Kasisto 1.0 contract under /api by default and leaves nothing behind on stop', async () => {
    await serve([], '1.0', '/token');
  });

  it('serves the revision chosen with --revision (1.3: /offers exists only there)', async () => {
    await serve(['--revision', '1.3'], '1.3', '/offers');
  });

  it('refuses an unknown revision', async () => {
    await expect(run('bash', ['scripts/mock.sh', 'kasisto', '--revision', '9.9'], { cwd: PROJECT_ROOT })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("no Kasisto revision '9.9'"),
    });
  });
});
