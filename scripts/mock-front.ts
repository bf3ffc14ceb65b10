/**
 * `npm run mock:kasisto` (scripts/mock.sh kasisto): Prism behind a small front that answers
 * the requests the connector refuses exactly as the connector does, so a mock and the
 * server agree (issue 12). Prism alone answers 401 for a missing `token` (it is a security
 * scheme), 200 for an empty `Idempotency-Key`, and canned examples for invalid JSON or an
 * invalid body. The front, in the connector's order:
 *
 *   1. `secret` missing or empty            → 401 unauthorized (any non-empty secret is accepted)
 *   2. body not JSON / not application/json → 400 invalid_request, the connector's message
 *   3. `token` missing or empty (operations whose security requires it) → 403 forbidden
 *   4. body, then headers, against the spec's request schemas (Ajv, the connector's
 *      options) → 400 invalid_request `<field>: <problem>`
 *   5. anything else is forwarded to Prism (on an internal loopback port), `Prefer` included.
 *
 * Unknown paths answer 404 not_found (401 first without a secret). The messages mirror
 * src/app.ts (sendError) and src/domain/sessions.ts; test/contracts/mock-parity.test.ts
 * sends the same table of requests to this mock and to the connector and compares them.
 *
 *   tsx scripts/mock-front.ts <spec> <port>
 *
 * SIGTERM/SIGINT stop the front and Prism (its child) and exit.
 */
import { spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = process.env.MOCK_HOST ?? '127.0.0.1';
const SPEC_ID = 'https://mock.invalid/spec';

type Json = Record<string, unknown>;
interface ErrorBody {
  code: string;
  message: string;
}
class Refusal {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {}
}
const invalid = (message: string) => new Refusal(400, { code: 'invalid_request', message });

interface OperationChecks {
  path: string;
  needsToken: boolean;
  body?: ValidateFunction;
  headers?: ValidateFunction;
}

function pointer(...tokens: string[]): string {
  return tokens.map((t) => t.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/** The connector's mapping of a validation error to its message (src/app.ts, sendError). */
function validationMessage(validate: ValidateFunction, context: 'body' | 'headers'): string {
  const first = validate.errors?.[0];
  const params = (first?.params ?? {}) as { missingProperty?: string };
  const path = (first?.instancePath ?? '').split('/').filter(Boolean);
  if (params.missingProperty) path.push(params.missingProperty);
  const field = path.join('.') || context;
  const message = params.missingProperty ? 'is required' : (first?.message ?? 'is invalid');
  return `${field}: ${message}`;
}

export function compileChecks(doc: Json): OperationChecks[] {
  // the connector's Ajv: Fastify's default (draft-07 Ajv, formats) with its custom options
  const ajv = new Ajv.default({ strict: false, coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false });
  addFormats.default(ajv);
  ajv.addSchema({ ...doc, $id: SPEC_ID });
  const resolveRef = (node: unknown): Json => {
    let current = node as Json;
    while (current && typeof current.$ref === 'string') {
      current = (current.$ref as string)
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((acc, t) => (acc as Json)?.[t.replace(/~1/g, '/').replace(/~0/g, '~')], doc) as Json;
    }
    return current;
  };
  const globalSecurity = (doc.security ?? []) as Json[];
  const checks: OperationChecks[] = [];
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const security = (op.security ?? globalSecurity) as Json[];
      const check: OperationChecks = {
        path,
        needsToken: security.length > 0 && security.every((requirement) => 'token' in requirement),
      };
      const body = resolveRef(op.requestBody) as { content?: Record<string, { schema?: unknown }> } | undefined;
      if (body?.content?.['application/json']?.schema) {
        check.body = ajv.compile({ $ref: `${SPEC_ID}#/${pointer('paths', path, method, 'requestBody', 'content', 'application/json', 'schema')}` });
      }
      const params = [...((item.parameters ?? []) as unknown[]), ...((op.parameters ?? []) as unknown[])].map(resolveRef);
      const headers = params.filter((p) => p.in === 'header');
      if (headers.length) {
        check.headers = ajv.compile({
          type: 'object',
          properties: Object.fromEntries(headers.map((h) => [String(h.name).toLowerCase(), h.schema ?? {}])),
          required: headers.filter((h) => h.required === true).map((h) => String(h.name).toLowerCase()),
        });
      }
      checks.push(check);
    }
  }
  return checks;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, HOST, () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === 'object' ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

async function main(): Promise<void> {
  const [specArg, portArg] = process.argv.slice(2);
  if (!specArg) throw new Error('usage: tsx scripts/mock-front.ts <spec> [port]');
  const specPath = resolve(ROOT, specArg);
  const port = Number(portArg ?? 4010);
  const doc = parse(readFileSync(specPath, 'utf8')) as Json;
  const url = (doc.servers as Array<{ url?: unknown }> | undefined)?.[0]?.url;
  const basePath = typeof url === 'string' && url.startsWith('/') ? url.replace(/\/+$/, '') : '';
  const checks = compileChecks(doc);

  // Prism serves the bare paths (it ignores relative server URLs); the front adds the prefix.
  const prismPort = await freePort();
  const prism = spawn(process.execPath, [realpathSync(join(ROOT, 'node_modules/.bin/prism')), 'mock', '-h', HOST, '-p', String(prismPort), specPath], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  let stopping = false;
  prism.once('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`mock: Prism exited (${signal ?? code}); stopping\n`);
      process.exit(1);
    }
  });

  const app = Fastify({ logger: false, onProtoPoisoning: 'error', onConstructorPoisoning: 'error' });
  // Installed before listen and before the "mock: … on http" line: whoever signals as soon as
  // it reads that line meets these handlers (Prism stopped too), not Node's default exit.
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`mock: ${signal}, stopping\n`);
    const gone = new Promise<void>((r) => (prism.exitCode !== null || prism.signalCode !== null ? r() : prism.once('exit', () => r())));
    prism.kill('SIGTERM');
    const timer = setTimeout(() => prism.kill('SIGKILL'), 3_000);
    await Promise.allSettled([app.close(), gone]);
    clearTimeout(timer);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  app.removeContentTypeParser('text/plain');
  const refuse = (reply: FastifyReply, r: Refusal) => reply.code(r.status).header('cache-control', 'no-store').send(r.body);
  const secretMissing = (request: FastifyRequest) => {
    const secret = request.headers.secret;
    return typeof secret !== 'string' || secret.length === 0;
  };
  const unauthorized = new Refusal(401, { code: 'unauthorized', message: 'The secret header is missing or wrong' });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error.statusCode === 400) {
      return refuse(reply, invalid('body: is not valid JSON, or holds a forbidden __proto__ or constructor.prototype key'));
    }
    if (error.statusCode === 415) return refuse(reply, invalid('body: Content-Type must be application/json'));
    if (error.statusCode === 413) return refuse(reply, new Refusal(413, { code: 'payload_too_large', message: 'The request body is larger than this server accepts' }));
    return refuse(reply, new Refusal(500, { code: 'internal_error', message: 'Something went wrong on our side; the request may be retried' }));
  });
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith(`${basePath}/`) && secretMissing(request)) return refuse(reply, unauthorized);
    const path = request.url.split('?')[0]!;
    return refuse(reply, new Refusal(404, { code: 'not_found', message: `There is no operation ${request.method} ${path.length > 200 ? `${path.slice(0, 200)}…` : path}` }));
  });

  for (const check of checks) {
    app.route({
      method: 'POST',
      url: basePath + check.path,
      // the secret before the body is read, as the connector does
      onRequest: (request, reply, done) => {
        if (secretMissing(request)) void refuse(reply, unauthorized);
        else done();
      },
      preValidation: (request, reply, done) => {
        const token = request.headers.token;
        if (check.needsToken && (typeof token !== 'string' || token.length === 0)) {
          void refuse(reply, new Refusal(403, { code: 'forbidden', message: 'The token header is required' }));
          return;
        }
        done();
      },
      handler: async (request, reply) => {
        if (check.body && !check.body(request.body)) return refuse(reply, invalid(validationMessage(check.body, 'body')));
        if (check.headers && !check.headers(request.headers)) return refuse(reply, invalid(validationMessage(check.headers, 'headers')));
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) {
          if (typeof value === 'string' && !['host', 'content-length', 'connection', 'transfer-encoding'].includes(name)) headers[name] = value;
        }
        const target = `http://${HOST}:${prismPort}${request.url.slice(basePath.length)}`;
        const answer = await fetch(target, {
          method: request.method,
          headers,
          ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        });
        reply.code(answer.status);
        for (const name of ['content-type', 'token', 'retry-after']) {
          const v = answer.headers.get(name);
          if (v !== null) reply.header(name, v);
        }
        return reply.send(Buffer.from(await answer.arrayBuffer()));
      },
    });
  }

  // Prism up before the front answers: a caller never sees a half-started mock
  const deadline = Date.now() + 60_000;
  while (!stopping) {
    try {
      await (await fetch(`http://${HOST}:${prismPort}/__ready_probe`)).arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('Prism did not start within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (stopping) return; // a signal came while Prism started: stop() ends the process
  await app.listen({ host: HOST, port });
  process.stderr.write(`mock: ${specArg} on http://${HOST}:${port}${basePath} (Prism on ${prismPort}, behind the connector's request checks; pid ${process.pid})\n`);

}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`mock: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
