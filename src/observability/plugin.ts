/**
 * Operations endpoints outside BASE_PATH, without the Kasisto secret:
 *   GET /healthz  liveness: the process answers (200 {status:'ok'})
 *   GET /readyz   readiness: the store answers a ping and Verify answers listBanks, within
 *                 READY_CHECK_TIMEOUT_MS; cached ~2 s so probes never load Verify;
 *                 503 {status:'unavailable', down:[…], checks:{…}} otherwise
 *   GET /metrics  Prometheus text; when METRICS_TOKEN is set, `Authorization: Bearer <it>`
 * plus the request metrics hook, the request-id logging context, and `connection: close`
 * on answers sent while shutting down (so keep-alive clients let go at once).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { CircuitOpenError } from '../adapters/verify/circuit.js';
import { VerifyError } from '../adapters/verify/errors.js';
import type { Config } from '../config.js';
import type { DomainContext } from '../domain/context.js';
import { secretDigest, secretMatches } from '../http/secret.js';
import type { Metrics } from './metrics.js';
import type { RequestContext } from './request-context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** An operations endpoint: no Kasisto secret, no rate limit. */
    probe?: boolean;
  }
}

export const PROBE_PATHS = { health: '/healthz', ready: '/readyz', metrics: '/metrics' } as const;
const READY_CACHE_MS = 2_000;

export interface ObservabilityOptions {
  config: Config;
  ctx: DomainContext;
  metrics: Metrics;
  requestContext: RequestContext;
}

type CheckResult = 'ok' | 'timeout' | 'circuit_open' | 'error' | `verify_${string}`;
interface Readiness {
  ready: boolean;
  checks: { store: CheckResult; verify: CheckResult };
}

/** Resolves to 'ok' or a short, value-free reason; never rejects, never outlasts `ms`. */
async function probe(call: () => Promise<unknown>, ms: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
    timer.unref();
  });
  const attempt = call().then(
    (): CheckResult => 'ok',
    (error: unknown): CheckResult => {
      if (error instanceof CircuitOpenError) return 'circuit_open';
      if (error instanceof VerifyError) return `verify_${error.kind}`;
      return 'error';
    },
  );
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The label of a route in metrics: its operationId, its probe name, or 'unmatched'. */
function operationOf(route: { schema?: unknown; config?: { probe?: boolean }; url?: string }): string {
  const operationId = (route.schema as { operationId?: unknown } | undefined)?.operationId;
  if (typeof operationId === 'string') return operationId;
  if (route.config?.probe && route.url) return route.url.slice(1);
  return 'unmatched';
}

/** Adds a hook to one route (after any it has), as route options take one function or an array. */
export function appendRouteHook(route: RouteOptions, name: 'onRequest' | 'preValidation' | 'onSend' | 'onResponse', hook: unknown): void {
  const options = route as unknown as Record<string, unknown>;
  const existing = options[name];
  options[name] = existing === undefined || existing === null ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing, hook];
}

export const observability = fp(
  async function observability(app: FastifyInstance, { config, ctx, metrics, requestContext }: ObservabilityOptions) {
    requestContext.install(app);

    // Each route counts under its own label, worked out once when it is added (reading
    // request.routeOptions builds a new frozen object on every access); what no route
    // matched counts as 'unmatched'. Synchronous hooks: an async one costs a promise.
    app.addHook('onRoute', (route) => {
      const observe = metrics.requestObserver(operationOf(route));
      appendRouteHook(route, 'onResponse', (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
        observe(reply.statusCode, reply.elapsedTime / 1000);
        done();
      });
    });
    const unmatched = metrics.requestObserver('unmatched');
    app.addHook('onResponse', (request, reply, done) => {
      if (request.is404) unmatched(reply.statusCode, reply.elapsedTime / 1000);
      done();
    });

    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.addHook('onSend', (request, reply, payload, done) => {
      if (closing && request.raw.httpVersionMajor === 1) reply.header('connection', 'close');
      done(null, payload);
    });

    const probeConfig = { probe: true, rateLimit: false } as const;

    app.get(PROBE_PATHS.health, { config: probeConfig }, async () => ({ status: 'ok' }));

    let cached: { at: number; result: Promise<Readiness> } | undefined;
    const readiness = (): Promise<Readiness> => {
      const now = Date.now();
      if (!cached || now - cached.at > READY_CACHE_MS) {
        const result = Promise.all([
          probe(() => ctx.store.ping(), config.readyCheckTimeoutMs),
          probe(() => ctx.verify.listBanks(), config.readyCheckTimeoutMs),
        ]).then(([store, verify]) => ({ ready: store === 'ok' && verify === 'ok', checks: { store, verify } }));
        cached = { at: now, result };
      }
      return cached.result;
    };

    app.get(PROBE_PATHS.ready, { config: probeConfig }, async (request, reply) => {
      const { ready, checks } = await readiness();
      if (ready) return { status: 'ok', checks };
      const down = Object.entries(checks)
        .filter(([, result]) => result !== 'ok')
        .map(([name]) => name);
      request.log.warn({ checks }, 'not ready');
      return reply.code(503).send({ status: 'unavailable', message: `not ready: ${down.join(', ')} unavailable`, down, checks });
    });

    const metricsToken = config.metricsToken ? [secretDigest(config.metricsToken)] : undefined;
    app.get(PROBE_PATHS.metrics, { config: probeConfig }, async (request: FastifyRequest, reply: FastifyReply) => {
      if (metricsToken) {
        const presented = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
        if (!secretMatches(presented, metricsToken)) {
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer realm="metrics"')
            .send({ code: 'unauthorized', message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' });
        }
      }
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    });
  },
  { name: 'connector-observability', fastify: '5.x' },
);
