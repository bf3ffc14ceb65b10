/**
 * The connector as a Fastify plugin plus `build()`, which the server, the tests and the
 * benchmarks share. Routes come from spec/kasisto.yaml through fastify-openapi-glue, one
 * handler per operationId; the `secret` is checked before anything else is looked at.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions, type HookHandlerDoneFunction } from 'fastify';
import fp from 'fastify-plugin';
import openapiGlue from 'fastify-openapi-glue';
import { normalizeIP } from '@fastify/rate-limit';
import { parse as parseYaml } from 'yaml';
import type { Config } from './config.js';
import { secretDigest, secretMatches, storedTokenHash } from './domain/crypto.js';
import type { DomainContext } from './domain/context.js';
import { authenticate, rotateIfDue } from './domain/sessions.js';
import { ApiError } from './errors.js';
import { runWithVerifyDeadline } from './adapters/verify/deadline.js';
import { serviceHandlers } from './routes/index.js';
import { securityHeaders } from './security-headers.js';
import { AccessLogController } from './access-log.js';
import { stdoutLines } from './log-destination.js';
import { lazyChildLogger } from './request-logger.js';
import { Metrics } from './observability/metrics.js';
import { appendRouteHook, observability } from './observability/plugin.js';
import { RateLimiter, type Verdict } from './rate-limit.js';
import { RequestContext } from './observability/request-context.js';

export const KASISTO_SPEC = fileURLToPath(new URL('../spec/kasisto.yaml', import.meta.url));

/** The operationIds whose every security requirement includes the customer's `token`. */
function tokenOperations(specFile: string): Set<string> {
  type Operation = { operationId?: string; security?: Record<string, unknown>[] };
  const spec = parseYaml(readFileSync(specFile, 'utf8')) as { security?: Record<string, unknown>[]; paths?: Record<string, Record<string, Operation>> };
  const ids = new Set<string>();
  for (const item of Object.values(spec.paths ?? {})) {
    for (const operation of Object.values(item)) {
      const security = operation.security ?? spec.security ?? [];
      if (operation.operationId && security.length > 0 && security.every((requirement) => 'token' in requirement)) ids.add(operation.operationId);
    }
  }
  return ids;
}

/** Log fields that must never be written, wherever they appear. */
export const REDACTED_PATHS = [
  'req.headers.secret',
  'req.headers.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers.token',
  'headers.secret',
  'headers.token',
  'body.password',
  'body.otp',
  'password',
  'otp',
  'secret',
  'token',
  'credentials',
  'challenge_response',
  'answers',
  // one level down too (e.g. an error's or a Verify call's fields)
  '*.password',
  '*.otp',
  '*.secret',
  '*.token',
  '*.credentials',
  '*.challenge_response',
  '*.answers',
  '*.authorization',
  '*.secretKey',
  '*.publicKey',
];

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // stdout, one write per event-loop turn (see log-destination.ts)
    stream: stdoutLines(),
  };
}

export interface ConnectorOptions {
  ctx: DomainContext;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The token header's keyed hash: worked out once, for the rate limit, and reused by authenticate. */
    tokenHash?: string;
  }
}

/**
 * The Kasisto API under BASE_PATH: security, validation, errors, the ten operations.
 * Its per-request work sits in synchronous hooks attached to the API's own routes when they
 * are added (what each route needs is known then: no per-request lookups of the route, no
 * promise per hook, nothing run for routes that do not need it).
 */
export const connector = fp(
  async function connector(app: FastifyInstance, { ctx }: ConnectorOptions) {
    const { config } = ctx;
    const accepted = config.kasistoSecrets.map(secretDigest);
    const apiPrefix = `${config.basePath}/`;
    const needsToken = tokenOperations(KASISTO_SPEC);
    // Limits are per instance (in memory): N instances allow up to N times the limit.
    const limiter = new RateLimiter(config.rateLimitWindowSeconds * 1000);

    app.decorateRequest('caller', undefined);
    app.decorateRequest('tokenHash', undefined);

    // Every request. What no route matched still answers 401 before 404 under the API's path;
    // the API's routes check the secret in their own hook (guard, below).
    app.addHook('onRequest', (request, _reply, done) => {
      // Node's own check would answer a bare 400 without the error body (see requireHostHeader in build()).
      if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) return done(new ApiError(400, 'invalid_request', 'Host: the header is required in HTTP/1.1'));
      if (request.is404 && routedPath(request).startsWith(apiPrefix) && !secretMatches(request.headers.secret as string | undefined, accepted)) return done(unauthorized());
      done();
    });

    /** onRequest of every API route: the secret, the rate limit, the Verify budget. */
    const guard = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
      // 401 before parsing or validating anything, in constant time.
      if (!secretMatches(request.headers.secret as string | undefined, accepted)) return done(unauthorized());
      // Only callers that presented the secret are counted (the rest got a constant-time 401):
      // by the customer's token when one is sent (its keyed hash, as the store knows it), else
      // by client address (TRUST_PROXY decides which).
      const token = request.headers.token;
      let verdict: Verdict;
      if (typeof token === 'string' && token.length > 0) {
        const hash = storedTokenHash(ctx.keys, token);
        request.tokenHash = hash;
        verdict = limiter.hit(`token:${hash}`, config.rateLimitPerToken);
      } else {
        verdict = limiter.hit(`address:${normalizeIP(request.ip)}`, config.rateLimitPerAddress);
      }
      if (!verdict.allowed) {
        const seconds = verdict.retryAfterSeconds;
        return done(new ApiError(429, 'rate_limited', `Too many requests; retry in ${seconds} second${seconds === 1 ? '' : 's'}`, undefined, seconds));
      }
      // All Verify calls of one Kasisto request share a budget that starts when it arrives.
      runWithVerifyDeadline(performance.now() - reply.elapsedTime + config.verifyBudgetMs, done, request.tokenHash);
    };

    // preValidation of the operations that take a token: checked once the body is parsed (for
    // its user_id) but before it is validated, so a caller without a valid token gets 403,
    // never a 400 about the body.
    const checkToken = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
      const body = request.body as { user_id?: unknown } | undefined;
      const userId = body && typeof body === 'object' && !Array.isArray(body) ? body.user_id : undefined;
      authenticate(ctx, request.headers.token, userId, request.tokenHash).then((caller) => {
        request.caller = caller;
        done();
      }, done);
    };

    // onSend of the same operations. A due rotation happens only on a 200, the one answer the
    // platform takes a token from.
    const passToken = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void): void => {
      const caller = request.caller;
      if (!caller || reply.statusCode !== 200) return done(null, payload);
      if (!caller.rotationDue || caller.newToken) {
        if (caller.newToken) reply.header('token', caller.newToken);
        return done(null, payload);
      }
      rotateIfDue(ctx, caller)
        .catch((error: unknown) => {
          request.log.warn({ err: error }, 'token rotation failed; the current token stays valid');
          return caller.newToken;
        })
        .then((token) => {
          if (token) reply.header('token', token);
          done(null, payload);
        });
    };

    app.addHook('onRoute', (route) => {
      if (route.config?.probe || !route.url.startsWith(apiPrefix)) return;
      appendRouteHook(route, 'onRequest', guard);
      const operationId = (route.schema as { operationId?: unknown } | undefined)?.operationId;
      if (typeof operationId === 'string' && needsToken.has(operationId)) {
        appendRouteHook(route, 'preValidation', checkToken);
        appendRouteHook(route, 'onSend', passToken);
      }
    });

    app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply));
    app.setNotFoundHandler((request, reply) => sendNotFound(request, reply));

    // No securityHandlers: glue would wrap each route's in an async preHandler looping over
    // the spec's schemes, while both are checked above, earlier (the secret before the body
    // is read, the token before validation). A route the token check missed fails closed:
    // its handler finds no caller (callerOf) and answers 500.
    await app.register(openapiGlue, {
      specification: KASISTO_SPEC,
      prefix: config.basePath,
      serviceHandlers: serviceHandlers(ctx),
    });
  },
  { name: 'kasisto-connector', fastify: '5.x' },
);

const unauthorized = () => new ApiError(401, 'unauthorized', 'The secret header is missing or wrong');

/**
 * The path the router matched, not the raw request target: an absolute-form target
 * (`POST http://host/api/token`) is routed to /api/token, so judging by request.url
 * would skip the secret check.
 */
function routedPath(request: FastifyRequest): string {
  return request.routeOptions.url ?? request.url.replace(/^[a-z][a-z\d+.-]*:\/\/[^/]*/i, '');
}

function sendApiError(reply: FastifyReply, error: ApiError): void {
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  reply.code(error.statusCode).send(error.toBody());
}

/** Every failure becomes the spec's error body; nothing internal leaks. */
function sendError(error: FastifyError & { errors?: unknown[] }, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof ApiError) return sendApiError(reply, error);
  // An unknown path is a 404 whatever its body (the secret and rate limit were checked before).
  if (request.is404) return sendNotFound(request, reply);
  // fastify-openapi-glue wraps what a security handler threw
  const wrapped = error.errors?.find((e): e is ApiError => e instanceof ApiError);
  if (wrapped) return sendApiError(reply, wrapped);
  // ...and anything else a security handler threw is ours (a store failure), not the caller's
  const inner = error.errors?.find((e): e is FastifyError => e instanceof Error);
  if (inner) return sendError(inner, request, reply);
  if (error.validation) {
    const first = error.validation[0];
    const params = (first?.params ?? {}) as { missingProperty?: string; additionalProperty?: string };
    const path = (first?.instancePath ?? '').split('/').filter(Boolean);
    if (params.missingProperty) path.push(params.missingProperty);
    const field = path.join('.') || (error.validationContext === 'body' ? 'body' : (error.validationContext ?? 'request'));
    const message = params.missingProperty ? 'is required' : (first?.message ?? 'is invalid');
    return sendApiError(reply, new ApiError(400, 'invalid_request', `${field}: ${message}`));
  }
  const status = error.statusCode ?? 500;
  if (status === 413) return sendApiError(reply, new ApiError(413, 'payload_too_large', 'The request body is larger than this server accepts'));
  if (status === 415) return sendApiError(reply, new ApiError(400, 'invalid_request', 'body: Content-Type must be application/json'));
  if (status === 429) return sendApiError(reply, new ApiError(429, 'rate_limited', 'Too many requests; slow down', undefined, 1));
  if (status >= 400 && status < 500) {
    return sendApiError(reply, new ApiError(400, 'invalid_request', error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'body: is not valid JSON, or holds a forbidden __proto__ or constructor.prototype key' : safeMessage(error)));
  }
  request.log.error({ err: error }, 'request failed');
  return sendApiError(reply, new ApiError(500, 'internal_error', 'Something went wrong on our side; the request may be retried'));
}

function sendNotFound(request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?')[0]!;
  sendApiError(reply, new ApiError(404, 'not_found', `There is no operation ${request.method} ${path.length > 200 ? `${path.slice(0, 200)}…` : path}`));
}

/**
 * Requests Node's HTTP parser refuses (broken HTTP, headers over 16 KB, too slow) never reach
 * Fastify's error handler: answer them with the same error body, then close.
 */
function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The request headers are larger than this server accepts']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request did not arrive in time']
        : [400, 'invalid_request', 'request: is not a valid HTTP/1.1 request'];
  this.log.debug({ code: error.code }, 'client error');
  // as Node does: never write into the middle of a response already under way
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify({ code, message });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

function safeMessage(error: FastifyError): string {
  return `request: ${String(error.message).slice(0, 200)}`;
}

export interface BuildOptions {
  ctx: DomainContext;
  logger?: FastifyServerOptions['logger'] | boolean;
  https?: { key: Buffer; cert: Buffer } | null;
  /** This instance's metrics (the runtime feeds Verify calls into them); made here when absent. */
  metrics?: Metrics;
}

/** A ready-to-listen Fastify instance serving the connector. */
export async function build({ ctx, logger, https, metrics = new Metrics() }: BuildOptions): Promise<FastifyInstance> {
  const { config } = ctx;
  // Node only checks the header and request deadlines every connectionsCheckingInterval
  // (30 s by default): check often enough that a slowloris is cut off close to the limit.
  const serverTimeouts = {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(config.headersTimeoutMs / 2))),
    // checked in the connector's onRequest instead, so the answer carries the error body
    requireHostHeader: false,
  };
  const logController = new AccessLogController({ requestIdLogLabel: 'request_id' });
  const app = Fastify({
    logger: logger === undefined ? loggerOptions(config) : logger,
    ...(https ? { https: { ...https, ...serverTimeouts } } : { http: serverTimeouts }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // a slow client cannot hold a connection: headers, whole request and idle keep-alive are bounded
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    return503OnClosing: true,
    requestIdHeader: false,
    logController,
    // request.log is made only if something logs through it (see request-logger.ts)
    childLoggerFactory: lazyChildLogger,
    genReqId: (req) => {
      const given = req.headers['request_id'];
      return typeof given === 'string' && /^[\x21-\x7e]{1,128}$/.test(given) ? given : randomUUID();
    },
    ajv: {
      // Money API: "10" is not 10, and nothing the platform sent is silently dropped.
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false },
    },
    clientErrorHandler,
    // Errors raised before routing (bad percent-encoding in the URL) bypass the error handler.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      reply.header('cache-control', 'no-store');
      if (error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendApiError(reply, new ApiError(400, 'invalid_request', 'path: is not a valid URL'));
      return sendApiError(reply, new ApiError(500, 'internal_error', 'Something went wrong on our side; the request may be retried'));
    },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  } as FastifyServerOptions);
  logController.useLogger(app.log);
  // JSON only: Fastify's default text/plain parser would hand the handlers a string body that
  // no schema checks (nor its user_id against the token); unparsed types answer 415 → 400.
  app.removeContentTypeParser('text/plain');
  // Domain log lines carry the request_id of the request they belong to.
  const requestContext = new RequestContext();
  ctx.log = requestContext.logger(app.log);
  // A JSON API: no content may be framed or run; HSTS only when clients reach us over TLS.
  await app.register(securityHeaders, {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    hsts: https || config.tlsTerminatedByProxy ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    // nothing the connector answers may be kept by a cache
    alsoSet: { 'cache-control': 'no-store' },
  });
  await app.register(observability, { ctx, metrics, requestContext });
  await app.register(connector, { ctx });
  return app;
}
