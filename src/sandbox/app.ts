/**
 * The Verify sandbox: a stateful stand-in for the Verify Payments API, built contract
 * first — fastify-openapi-glue makes every route, parameter and body schema from
 * spec/verify.yaml and binds each operationId to its handler in ./handlers.
 *
 *   const sandbox = await buildSandbox();
 *   await sandbox.app.listen({ host: '127.0.0.1', port: 0 });
 *   sandbox.faults.set('createTransfer', { drop: true, afterHandler: true, times: 1 });
 *   sandbox.stats.calls.createTransfer; sandbox.reset();
 *
 * Validation (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses): JSON bodies are validated
 * without type coercion (a JSON `amount` must be an integer, `"500"` is refused); form
 * bodies (`application/x-www-form-urlencoded`, parsed with qs in bracket notation) and
 * path parameters arrive as text, so they are validated with coercion (`amount=500` →
 * 500, a single `answers=ruby` → `["ruby"]`). Responses are plain JSON.stringify; the
 * tests check every answer against the spec's response schemas.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import openapiGlue from 'fastify-openapi-glue';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import qs from 'qs';
import { parse as parseYaml } from 'yaml';
import { registerControlRoutes } from './control.js';
import { SandboxError, errorBody, toErrorReply } from './errors.js';
import { FaultController, installFaultHooks } from './faults.js';
import { createServiceHandlers } from './handlers/index.js';
import { isOperationId } from './operations.js';
import { createSecurityHandlers } from './security.js';
import { SandboxState, type SandboxSnapshot } from './state.js';
import { CallStats } from './stats.js';
import type { OperationId } from './types.js';

/**
 * spec/verify.yaml of the project this file runs in (src/sandbox/ under tsx, dist/src/sandbox/
 * once built): the first folder above holding it. The sandbox finds it itself: it imports
 * nothing of the connector.
 */
export const VERIFY_SPEC_PATH = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'spec', 'verify.yaml');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error('spec/verify.yaml not found above the sandbox');
  }
})();

export interface SandboxOptions {
  /** Fastify logger option; default false (silent). */
  logger?: FastifyServerOptions['logger'] | boolean;
  /** Serve the /__sandbox control routes (faults, stats, reset); default false. */
  controlEndpoint?: boolean;
  /** Wrong answers allowed per verification, the last one failing it; default 3. */
  maxVerificationAttempts?: number;
  /** Sessions kept in memory before the oldest are forgotten; default 50 000. */
  maxSessions?: number;
  /**
   * A file the bank's state is kept in (read at start, written after every change and at
   * close), so a restart keeps balances and reference numbers; default: memory only.
   */
  stateFile?: string;
}

export interface Sandbox {
  app: FastifyInstance;
  faults: FaultController;
  stats: CallStats;
  /** The sandbox's data (sessions, transfers, balances), for tests that look inside. */
  state: SandboxState;
  /** Back to a fresh start: state (balances refilled), stats and faults cleared. */
  reset(): void;
}

const FORM = 'application/x-www-form-urlencoded';
const BODY_LIMIT = 64 * 1024;

/** Limits for form bodies: Verify's bodies are flat or one level deep (`credentials[login]`). */
export const FORM_PARSE_OPTIONS: qs.IParseOptions = {
  depth: 2,
  strictDepth: true,
  arrayLimit: 20,
  parameterLimit: 50,
  throwOnLimitExceeded: true,
  allowPrototypes: false,
  allowDots: false,
  plainObjects: false,
  charset: 'utf-8',
};

let specPromise: Promise<Record<string, unknown>> | undefined;

/** spec/verify.yaml, read and parsed once per process. */
export function loadVerifySpec(): Promise<Record<string, unknown>> {
  specPromise ??= readFile(VERIFY_SPEC_PATH, 'utf8').then((text) => parseYaml(text) as Record<string, unknown>);
  return specPromise;
}

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

function newAjv(coerce: boolean): Ajv2020 {
  const ajv = new Ajv2020({
    strict: false,
    allErrors: false,
    coerceTypes: coerce ? 'array' : false,
    useDefaults: true,
    removeAdditional: false,
  });
  addFormats(ajv);
  return ajv;
}

function operationIdOf(request: FastifyRequest): OperationId | undefined {
  const id = (request.routeOptions.schema as { operationId?: unknown } | undefined)?.operationId;
  return isOperationId(id) ? id : undefined;
}

/** Path templates of the spec, to tell 405 (known path, other method) from 404. */
function pathMatchers(spec: Record<string, unknown>): { regex: RegExp; methods: string[] }[] {
  const paths = (spec['paths'] ?? {}) as Record<string, Record<string, unknown>>;
  const methods = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'];
  return Object.entries(paths).map(([path, item]) => ({
    regex: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}/?$`),
    methods: methods.filter((m) => m in item).map((m) => m.toUpperCase()),
  }));
}

export async function buildSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const spec = await loadVerifySpec();
  const state = new SandboxState({
    ...(options.maxVerificationAttempts !== undefined ? { maxVerificationAttempts: options.maxVerificationAttempts } : {}),
    ...(options.maxSessions !== undefined ? { maxSessions: options.maxSessions } : {}),
  });
  const faults = new FaultController();
  const stats = new CallStats();

  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT,
    // Verify's reference posts to `/sessions/`: accept the trailing slash.
    routerOptions: { ignoreTrailingSlash: true },
  });

  // Validation: strict for JSON bodies, coercing for text (form bodies, path parameters).
  const strictAjv = newAjv(false);
  const coercingAjv = newAjv(true);
  app.setValidatorCompiler(({ schema, httpPart, contentType }) => {
    const ajv = httpPart === 'body' && contentType !== FORM ? strictAjv : coercingAjv;
    return ajv.compile(schema as object);
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  // Bodies: JSON (Fastify's parser) and forms in bracket notation (qs). No text/plain.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => {
    try {
      done(null, qs.parse(body as string, FORM_PARSE_OPTIONS));
    } catch (error) {
      done(new SandboxError(400, `Malformed form body: ${(error as Error).message}`), undefined);
    }
  });

  // Every error answers { object: "error", message }.
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorReply(error);
    if (status >= 500) request.log.error({ err: error }, 'sandbox: unexpected error');
    else request.log.info({ status, message: body.message }, 'sandbox: error answer');
    return reply.code(status).send(body);
  });
  const matchers = pathMatchers(spec);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = matchers.filter((m) => m.regex.test(path)).flatMap((m) => m.methods);
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', [...new Set(allowed)].join(', '))
        .send(errorBody(`Method ${request.method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`));
    }
    return reply.code(404).send(errorBody(`No such endpoint: ${request.method} ${path}`));
  });

  // Connections of clients (the connector's keep-alive pool shows as few long-lived ones).
  app.server.on('connection', (socket) => {
    stats.socketOpened();
    socket.once('close', () => stats.socketClosed());
  });

  // Call counting, then fault injection (both only for the spec's operations).
  app.addHook('onRequest', async (request) => {
    const operationId = operationIdOf(request);
    if (operationId !== undefined) stats.record(operationId);
  });
  installFaultHooks(app, faults, operationIdOf);

  // A body-taking operation called without a body (no Content-Type): a clear 400, as
  // Fastify validates bodies per media type and would otherwise let `undefined` through.
  app.addHook('preValidation', async (request) => {
    const body = (request.routeOptions.schema as { body?: { content?: unknown } } | undefined)?.body;
    if (body?.content !== undefined && request.body === undefined) {
      throw new SandboxError(400, `Request body is missing: send ${FORM} or application/json`);
    }
  });

  // fastify-openapi-glue attaches an operation's security handler as its preHandler,
  // which runs after body parsing and validation. Verify (like any API) checks the key
  // first: move it to onRequest, so a keyless call is a 401 whatever its body, and no
  // body is parsed for it. (Route-level onRequest runs after the stats and fault hooks.)
  app.addHook('onRoute', (route) => {
    const operationId = (route.schema as { operationId?: unknown } | undefined)?.operationId;
    if (!isOperationId(operationId) || route.preHandler === undefined) return;
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    const security = Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    route.onRequest = [...existing, ...security] as typeof route.onRequest;
    route.preHandler = undefined;
  });

  await app.register(openapiGlue, {
    specification: spec,
    serviceHandlers: createServiceHandlers({ state }),
    securityHandlers: createSecurityHandlers(),
  });

  if (options.stateFile) keepStateIn(app, state, options.stateFile);

  const sandbox: Sandbox = {
    app,
    faults,
    stats,
    state,
    reset() {
      state.reset();
      stats.reset();
      faults.clear();
    },
  };
  if (options.controlEndpoint) registerControlRoutes(sandbox);
  return sandbox;
}

/**
 * Keeps the bank's state in `file`: read now, written (whole, atomically, mode 600) after
 * every request that may have changed it, at most once per event-loop turn, and at close.
 */
function keepStateIn(app: FastifyInstance, state: SandboxState, file: string): void {
  if (existsSync(file)) state.restore(JSON.parse(readFileSync(file, 'utf8')) as SandboxSnapshot);
  let pending = false;
  const save = () => {
    pending = false;
    mkdirSync(dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(state.snapshot()), { mode: 0o600 });
    renameSync(temp, file);
  };
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.method !== 'GET' && !pending) {
      pending = true;
      setImmediate(save);
    }
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    save();
    done();
  });
}
