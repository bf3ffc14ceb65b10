/**
 * The connector as a Fastify plugin plus `build()`, which the server, the tests and the
 * benchmarks share. Routes come from the spec of the Kasisto revision served
 * (spec/kasisto/<KASISTO_API_REVISION>.yaml) through fastify-openapi-glue, one handler per
 * operationId (src/routes/, src/routes/revisions/); who may call is src/http/auth.ts;
 * failures become that revision's error body in src/http/error-handler.ts.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import openapiGlue from 'fastify-openapi-glue';
import { projectPath } from '../paths.js';
import type { Config, KasistoRevision } from '../config.js';
import type { DomainContext } from '../domain/context.js';
import { serviceHandlersFor } from '../routes/index.js';
import { Metrics } from '../observability/metrics.js';
import { appendRouteHook, observability } from '../observability/plugin.js';
import { RequestContext } from '../observability/request-context.js';
import { requestScope } from '../observability/request-scope.js';
import type { Tracing } from '../observability/tracing.js';
import { authHooks } from './auth.js';
import { ApiError } from './errors.js';
import { clientErrorHandler, frameworkErrors, routedPath, sendError, sendNotFound, unauthorized } from './error-handler.js';
import { AccessLogController } from './logging/access-log.js';
import { loggerOptions } from './logging/redaction.js';
import { lazyChildLogger } from './logging/request-logger.js';
import { operationRules } from './operation-rules.js';
import { securityHeaders } from './security-headers.js';

/** The contract of a Kasisto revision: routes, validation and operation rules come from it. */
export const kasistoSpec = (revision: KasistoRevision): string => projectPath('spec', 'kasisto', `${revision}.yaml`);
/** Revision 1.0's contract (the default). */
export const KASISTO_SPEC = kasistoSpec('1.0');

export interface ConnectorOptions {
  config: Config;
  ctx: DomainContext;
}

/**
 * The Kasisto API under BASE_PATH: security, validation, errors, the ten operations.
 * Its per-request work sits in synchronous hooks attached to the API's own routes when they
 * are added (what each route needs is known then: nothing run for routes that do not need it).
 */
export const connector = fp(
  async function connector(app: FastifyInstance, { config, ctx }: ConnectorOptions) {
    const apiPrefix = `${config.basePath}/`;
    const revision = config.kasistoApiRevision;
    const spec = kasistoSpec(revision);
    const rules = operationRules(spec);
    const auth = authHooks(config, ctx);
    // error bodies speak the revision served (error-handler.ts reads it)
    app.decorate('kasistoRevision', revision);

    app.decorateRequest('caller', undefined);

    // Every request. What no route matched still answers 401 before 404 under the API's path;
    // the API's routes check the secret in their own hook (auth.guard).
    app.addHook('onRequest', (request, _reply, done) => {
      // Node's own check would answer a bare 400 without the error body (see requireHostHeader in build()).
      if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) return done(new ApiError(400, 'invalid_request', 'Host: the header is required in HTTP/1.1'));
      if (request.is404 && routedPath(request).startsWith(apiPrefix) && !auth.secretAccepted(request)) return done(unauthorized());
      done();
    });

    app.addHook('onRoute', (route) => {
      if (route.config?.probe || !route.url.startsWith(apiPrefix)) return;
      const operationId = (route.schema as { operationId?: unknown } | undefined)?.operationId;
      const id = typeof operationId === 'string' ? operationId : '';
      route.config = { ...route.config, mayAskOtp: rules.mayAskOtp.has(id) };
      appendRouteHook(route, 'onRequest', auth.guard(rules.needsToken.has(id)));
      const required = rules.requiredHeaders.get(id);
      if (required && required.length > 0) appendRouteHook(route, 'onRequest', requireHeaders(required));
      if (rules.needsToken.has(id)) {
        // Kasisto 1.3's exception table: a missing token is 401 (an unknown or expired one stays 403)
        if (revision === '1.3') appendRouteHook(route, 'preValidation', tokenPresent);
        appendRouteHook(route, 'preValidation', auth.checkToken(rules.answersOtp.has(id)));
        appendRouteHook(route, 'onSend', auth.passToken);
      } else if (rules.mayTakeToken.has(id)) {
        // an optional token (1.3 /bank_locations): checked like everywhere else when sent
        const check = auth.checkToken(false);
        const whenSent: Hook = (request, reply, done) => (request.headers.token === undefined ? done() : check(request, reply, done));
        appendRouteHook(route, 'preValidation', whenSent);
        appendRouteHook(route, 'onSend', auth.passToken);
      }
    });

    app.setErrorHandler(sendError);
    app.setNotFoundHandler(sendNotFound);

    // No glue securityHandlers: both schemes are checked earlier by auth's hooks (the secret
    // before the body is read, the token before validation).
    await app.register(openapiGlue, {
      specification: spec,
      prefix: config.basePath,
      serviceHandlers: serviceHandlersFor(revision, ctx),
    });
  },
  { name: 'kasisto-connector', fastify: '5.x' },
);

type Hook = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void;

/**
 * Headers the revision requires (1.2/1.3: `Date`, `request_id`): a request without one
 * answers 400 naming it. `Date` is not compared with the clock (Kasisto gives no tolerance).
 */
function requireHeaders(names: readonly string[]): Hook {
  const lower = names.map((name) => [name, name.toLowerCase()] as const);
  return (request, _reply, done) => {
    for (const [name, key] of lower) {
      const value = request.headers[key];
      if (typeof value !== 'string' || value.length === 0) return done(new ApiError(400, 'invalid_request', `${name}: header is required`));
    }
    done();
  };
}

const tokenPresent: Hook = (request, _reply, done) => {
  const token = request.headers.token;
  if (typeof token !== 'string' || token.length === 0) return done(new ApiError(401, 'unauthorized', 'The token header is missing'));
  done();
};

export interface BuildOptions {
  config: Config;
  ctx: DomainContext;
  logger?: FastifyServerOptions['logger'] | boolean;
  https?: { key: Buffer; cert: Buffer } | null;
  /** This instance's metrics (the runtime feeds Verify calls into them); made here when absent. */
  metrics?: Metrics;
  /** OpenTelemetry tracing (observability/tracing.ts); absent: off, and no hook is added. */
  tracing?: Tracing;
}

/** A ready-to-listen Fastify instance serving the connector. */
export async function build({ config, ctx, logger, https, metrics = new Metrics(), tracing }: BuildOptions): Promise<FastifyInstance> {
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
    // request.log is made only if something logs through it (see logging/request-logger.ts)
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
    frameworkErrors,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  } as FastifyServerOptions);
  logController.useLogger(app.log);
  // every answer names its request: Kasisto's request_id echoed, or the one made here
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('request_id', request.id);
    done();
  });
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
  await app.register(observability, { config, ctx, metrics, requestContext });
  if (tracing) {
    // after observability's hook, which made the request scope: the span goes into it, so the
    // request's Verify calls (src/adapters/verify/client.ts) become its children
    const revision = config.kasistoApiRevision;
    app.addHook('onRequest', (request, _reply, done) => {
      if (request.routeOptions.config?.probe) return done(); // not the probes and /metrics scrapes
      const scope = requestScope.getStore();
      const trace = tracing.startRequest(request, revision);
      if (scope) scope.trace = trace;
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      tracing.endRequest(request, reply.statusCode);
      done();
    });
  }
  await app.register(connector, { config, ctx });
  return app;
}
