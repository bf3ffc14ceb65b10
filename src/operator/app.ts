/**
 * The operator API (spec/operator.yaml) as its own Fastify app, for its own listener
 * (OPERATOR_HOST:OPERATOR_PORT, never the Kasisto port), under /operator/v1. Routes,
 * parameter and body schemas come from the spec through fastify-openapi-glue, one handler
 * per operationId (handlers.ts). Every request needs `Authorization: Bearer <key>`;
 * settler-only operations answer 403 to a viewer. Errors are `{code, message}`.
 *
 * Kept apart from src/http/ (the Kasisto edge): different clients, auth, errors and port,
 * so neither API's policies can leak into the other.
 */
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import openapiGlue from 'fastify-openapi-glue';
import { CONSOLE_PREFIX, consolePlugin } from '../../console/server.js';
import { DomainError } from '../domain/errors.js';
import { matchSecret } from '../http/secret.js';
import { SettlementError, type SettlementErrorKind } from '../domain/settlement/errors.js';
import type { Actor } from '../domain/settlement/service.js';
import type { OperatorConfig, OperatorKey } from './config.js';
import { operatorHandlers, SETTLER_OPERATIONS, type OperatorDeps } from './handlers.js';

export const OPERATOR_SPEC = fileURLToPath(new URL('../../spec/operator.yaml', import.meta.url));
export const OPERATOR_PREFIX = '/operator/v1';

declare module 'fastify' {
  interface FastifyRequest {
    /** The operator key that authenticated this request (its name and role, never the key). */
    operatorKey?: Actor;
  }
  interface FastifyContextConfig {
    /** An operator operation that changes money or its records (role settler). */
    settlerOnly?: boolean;
  }
}

/** SettlementError kinds → HTTP status (docs/settlement-design.md). */
const STATUS_OF: Record<SettlementErrorKind, number> = {
  invalid_iban: 409,
  creditor_account_missing: 409,
  invalid_identifier: 409,
  invalid_batch: 409,
  fx_rate_missing: 400,
  fx_rates_invalid: 500,
  amount_out_of_range: 400,
  obligation_unknown: 400,
  not_due: 409,
  nothing_to_batch: 409,
  four_eyes: 403,
  not_found: 404,
  conflict: 409,
  invalid_request: 400,
  upstream_unavailable: 503,
};

class OperatorError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The key presented, matched in constant time against every configured key (all are compared). */
export function matchKey(authorization: string | undefined, keys: readonly OperatorKey[]): OperatorKey | undefined {
  const presented = typeof authorization === 'string' && /^Bearer [^\s]+$/i.test(authorization) ? authorization.slice(7) : undefined;
  return matchSecret(presented, keys, (key) => key.digest);
}

export interface OperatorAppOptions extends OperatorDeps {
  operator: OperatorConfig;
  logger?: FastifyServerOptions['logger'];
  bodyLimitBytes?: number;
}

export async function buildOperatorApp(options: OperatorAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    // Fastify's own request lines carry the query string (a username): ours below do not
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes ?? 65_536,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
    routerOptions: { maxParamLength: 200 },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // errors raised before routing (a broken percent-encoding) bypass the error handler
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const badUrl = error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void reply.code(badUrl ? 400 : 500).send(badUrl ? { code: 'invalid_request', message: 'path: is not a valid URL' } : { code: 'internal_error', message: 'Something went wrong on our side' });
    },
  });
  // JSON bodies only (no schema would check a text/plain one)
  app.removeContentTypeParser('text/plain');
  const { keys } = options.operator;

  app.decorateRequest('operatorKey', undefined);
  app.addHook('onRoute', (route) => {
    const operationId = (route.schema as { operationId?: unknown } | undefined)?.operationId;
    route.config = { ...route.config, settlerOnly: typeof operationId === 'string' && SETTLER_OPERATIONS.has(operationId) };
  });
  // Before the body is read: an unauthenticated caller learns nothing, not even validation.
  app.addHook('onRequest', async (request) => {
    // the console's own files (its page signs in with a key it then sends on every API call)
    if (isConsolePath(request)) return;
    const key = matchKey(request.headers.authorization, keys);
    if (!key) throw new OperatorError(401, 'unauthorized', 'Authorization: a Bearer key of OPERATOR_API_KEYS is required');
    request.operatorKey = { name: key.name, role: key.role };
    if (request.routeOptions.config.settlerOnly && key.role !== 'settler') {
      throw new OperatorError(403, 'forbidden', `this operation needs role settler; key ${key.name} has role ${key.role}`);
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    // the path only: query strings may hold a username
    request.log.info({ operator_key: request.operatorKey?.name, method: request.method, path: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'operator request');
  });
  app.addHook('onSend', async (request, reply, payload) => {
    // API answers are never kept; the console's files carry their own ETag and no-cache
    if (!isConsolePath(request)) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => sendOperatorError(error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    if (!matchKey(request.headers.authorization, keys)) return reply.code(401).send({ code: 'unauthorized', message: 'Authorization: a Bearer key of OPERATOR_API_KEYS is required' });
    const path = request.url.split('?')[0]!.slice(0, 200);
    return reply.code(404).send({ code: 'not_found', message: `There is no operation ${request.method} ${path}` });
  });

  await app.register(openapiGlue, {
    specification: OPERATOR_SPEC,
    prefix: OPERATOR_PREFIX,
    serviceHandlers: operatorHandlers(options),
  });
  // the operator console (console/): static files on this listener, calling the API above
  await app.register(consolePlugin);
  return app;
}

const isConsolePath = (request: FastifyRequest) => request.routeOptions.url?.startsWith(CONSOLE_PREFIX) === true;

function sendOperatorError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const send = (status: number, code: string, message: string) => void reply.code(status).type('application/json').send({ code, message });
  if (error instanceof OperatorError) return send(error.statusCode, error.code, error.message);
  if (error instanceof SettlementError) return send(STATUS_OF[error.kind], error.kind, error.message);
  if (error instanceof DomainError) {
    const status = error.kind === 'invalid_request' ? 400 : error.kind === 'in_progress' ? 409 : error.kind.startsWith('upstream') ? 503 : 500;
    return send(status, error.kind, error.message);
  }
  if (error.validation) {
    const first = error.validation[0];
    const params = (first?.params ?? {}) as { missingProperty?: string; additionalProperty?: string };
    const path = (first?.instancePath ?? '').split('/').filter(Boolean);
    if (params.missingProperty) path.push(params.missingProperty);
    if (params.additionalProperty) path.push(params.additionalProperty);
    const field = path.join('.') || (error.validationContext ?? 'request');
    const message = params.missingProperty ? 'is required' : params.additionalProperty ? 'is not a known field' : (first?.message ?? 'is invalid');
    return send(400, 'invalid_request', `${field}: ${message}`);
  }
  const status = error.statusCode ?? 500;
  if (status === 413) return send(413, 'payload_too_large', 'The request body is larger than this server accepts');
  if (status === 415) return send(400, 'invalid_request', 'body: Content-Type must be application/json');
  if (status >= 400 && status < 500) {
    const invalidJson = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY';
    return send(400, 'invalid_request', invalidJson ? 'body: is not valid JSON' : `request: ${String(error.message).slice(0, 200)}`);
  }
  request.log.error({ err: error }, 'operator request failed');
  return send(500, 'internal_error', 'Something went wrong on our side; the request may be retried');
}
