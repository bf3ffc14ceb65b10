/**
 * Makes the domain's log lines carry the request_id of the request they belong to. The
 * domain logs through `ctx.log`, built once per app; this logger looks up the current
 * request's child logger (Fastify's `request.log`, which has `request_id` bound) in the
 * request scope (src/observability/request-scope.ts) and falls back to the app logger outside requests
 * (start-up, housekeeping).
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from '../domain/context.js';
import { requestScope } from './request-scope.js';

export class RequestContext {
  /** A Logger for the domain that writes through the current request's logger. */
  logger(base: FastifyBaseLogger): Logger {
    const current = (): FastifyBaseLogger => {
      const scope = requestScope.getStore();
      return scope !== undefined && scope.owner === this && scope.log !== undefined ? scope.log : base;
    };
    return {
      info: (obj, msg) => (msg === undefined ? current().info(obj) : current().info(obj, msg)),
      warn: (obj, msg) => (msg === undefined ? current().warn(obj) : current().warn(obj, msg)),
      error: (obj, msg) => (msg === undefined ? current().error(obj) : current().error(obj, msg)),
      debug: (obj, msg) => (msg === undefined ? current().debug(obj) : current().debug(obj, msg)),
    };
  }

  /**
   * Enters the request's scope once, in onRequest. Fastify (5.x) carries the async context
   * across body parsing itself (an AsyncResource in its content-type parser), so the hooks,
   * handler and replies that follow stay in it; entering again in preValidation, as
   * @fastify/request-context does for older Fastify versions, is not needed.
   */
  install(app: FastifyInstance): void {
    app.addHook('onRequest', (request, _reply, done) => requestScope.run({ owner: this, log: request.log, verifyDeadline: undefined }, done));
  }
}
