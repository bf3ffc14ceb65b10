/**
 * Prism serves both contracts offline from their named examples, and every documented
 * status of every operation answers a body that matches that status's schema:
 * `Prefer: code=<status>` for each (operation, status), with valid auth headers and the
 * operation's first request example as the body. `Prefer: example=<name>` picks a named
 * example. The Kasisto mock lives under /api (as `npm run mock:kasisto` serves it).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnServer, startPrism, type PrismServer } from '../helpers/prism.js';
import { loadSpec, pointerOf, type Json, type JsonObject, type LoadedSpec, type Operation } from '../helpers/spec.js';

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
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(spec, op), ...extraHeaders };
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

const CASES = {
  kasisto: {
    file: 'spec/kasisto.yaml',
    basePath: '/api',
    // The ten Kasisto 1.0 operations, and the statuses the contract promises for all of them.
    expectedOperations: 10,
    everyOperationHas: ['200', '400', '401', '403', '413', '429', '500', '501', '502', '503', '504'],
  },
  verify: {
    file: 'spec/verify.yaml',
    basePath: '',
    expectedOperations: 11,
    everyOperationHas: ['200', '401', '403', '500', '503'],
  },
} as const;

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

    it(`has the ${c.expectedOperations} operations, each with the common statuses`, () => {
      const ops = spec.operations();
      expect(ops).toHaveLength(c.expectedOperations);
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
        headers: { 'content-type': 'application/json' },
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

    if (api === 'kasisto') {
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
        expect(otp.body).toMatchObject({ code: 'otp_required', otp_details: { type: 'questions' } });
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
          headers: { ...AUTH.secret, 'content-type': 'application/json' },
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
  it('serves the Kasisto contract under /api and leaves nothing behind on stop', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mock-sh-test-'));
    const port = await freePort();
    const server = await spawnServer({
      command: 'bash',
      args: ['scripts/mock.sh', 'kasisto', String(port)],
      port,
      what: 'scripts/mock.sh kasisto',
      env: { ...process.env, TMPDIR: tmp },
    });
    try {
      // Prism behind scripts/mock-front.ts: the front adds /api itself, no copy of the spec
      const post = (path: string) =>
        fetch(`http://127.0.0.1:${port}${path}`, {
          method: 'POST',
          headers: { ...AUTH.secret, 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'test', password: 'x' }),
        });
      const ok = await post('/api/token');
      expect(ok.status).toBe(200);
      loadSpec('kasisto').assertResponse('/token', 'post', 200, await ok.json());
      const bare = await post('/token');
      await bare.arrayBuffer();
      expect(bare.status).toBe(404);
    } finally {
      await server.stop();
    }
    // tsx keeps its compile cache in the temp dir (tsx-<uid>); nothing else may be left
    expect(readdirSync(tmp).filter((f) => !f.startsWith('tsx-'))).toEqual([]);
    rmSync(tmp, { recursive: true, force: true });
  });
});
