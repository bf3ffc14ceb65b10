/**
 * The connector as a Fastify plugin plus `build()`, which the server, the tests and the
 * benchmarks share. Routes come from spec/kasisto.yaml through fastify-openapi-glue, one
 * handler per operationId; the `secret` is checked before anything else is looked at.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import openapiGlue from 'fastify-openapi-glue';
import type { Config } from './config.js';
import { secretDigest, secretMatches } from './domain/crypto.js';
import type { DomainContext } from './domain/context.js';
import { authenticate } from './domain/sessions.js';
import { ApiError } from './errors.js';
import { serviceHandlers } from './routes/index.js';

export const KASISTO_SPEC = fileURLToPath(new URL('../spec/kasisto.yaml', import.meta.url));

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
];

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
}

export interface ConnectorOptions {
  ctx: DomainContext;
}

/** The Kasisto API under BASE_PATH: security, validation, errors, the ten operations. */
export const connector = fp(
  async function connector(app: FastifyInstance, { ctx }: ConnectorOptions) {
    const { config } = ctx;
    const accepted = config.kasistoSecrets.map(secretDigest);
    const apiPrefix = `${config.basePath}/`;

    // 401 before parsing or validating anything, in constant time.
    app.addHook('onRequest', async (request) => {
      if (!request.url.startsWith(apiPrefix)) return;
      if (!secretMatches(request.headers.secret as string | undefined, accepted)) {
        throw new ApiError(401, 'unauthorized', 'The secret header is missing or wrong');
      }
    });

    app.addHook('onSend', async (request, reply, payload) => {
      if (request.caller?.newToken && reply.statusCode === 200) reply.header('token', request.caller.newToken);
      reply.header('cache-control', 'no-store');
      return payload;
    });

    app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply));
    app.setNotFoundHandler((request, reply) => {
      sendApiError(reply, new ApiError(404, 'not_found', `There is no operation ${request.method} ${request.url.split('?')[0]}`));
    });

    await app.register(openapiGlue, {
      specification: KASISTO_SPEC,
      prefix: config.basePath,
      serviceHandlers: serviceHandlers(ctx),
      securityHandlers: {
        // checked in onRequest above, before the body is even read
        secret: async () => {},
        token: async (request: FastifyRequest) => {
          const body = request.body as { user_id?: unknown } | undefined;
          request.caller = await authenticate(ctx, request.headers.token, body && typeof body === 'object' ? body.user_id : undefined);
        },
      },
    });
  },
  { name: 'kasisto-connector', fastify: '5.x' },
);

function sendApiError(reply: FastifyReply, error: ApiError): void {
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter));
  reply.code(error.statusCode).send(error.toBody());
}

/** Every failure becomes the spec's error body; nothing internal leaks. */
function sendError(error: FastifyError & { errors?: unknown[] }, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof ApiError) return sendApiError(reply, error);
  // fastify-openapi-glue wraps what a security handler threw
  const wrapped = error.errors?.find((e): e is ApiError => e instanceof ApiError);
  if (wrapped) return sendApiError(reply, wrapped);
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
    return sendApiError(reply, new ApiError(400, 'invalid_request', error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'body: is not valid JSON' : safeMessage(error)));
  }
  request.log.error({ err: error }, 'request failed');
  return sendApiError(reply, new ApiError(500, 'internal_error', 'Something went wrong on our side; the request may be retried'));
}

function safeMessage(error: FastifyError): string {
  return `request: ${String(error.message).slice(0, 200)}`;
}

export interface BuildOptions {
  ctx: DomainContext;
  logger?: FastifyServerOptions['logger'] | boolean;
  https?: { key: Buffer; cert: Buffer } | null;
}

/** A ready-to-listen Fastify instance serving the connector. */
export async function build({ ctx, logger, https }: BuildOptions): Promise<FastifyInstance> {
  const { config } = ctx;
  const app = Fastify({
    logger: logger === undefined ? loggerOptions(config) : logger,
    ...(https ? { https } : {}),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // a slow client cannot hold a connection: headers, whole request and idle keep-alive are bounded
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    genReqId: (req) => {
      const given = req.headers['request_id'];
      return typeof given === 'string' && /^[\x21-\x7e]{1,128}$/.test(given) ? given : randomUUID();
    },
    ajv: {
      // Money API: "10" is not 10, and nothing the platform sent is silently dropped.
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false },
    },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  } as FastifyServerOptions);
  app.server.headersTimeout = 10_000;
  await app.register(connector, { ctx });
  return app;
}
