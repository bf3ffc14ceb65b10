/**
 * Makes the domain's log lines carry the request's `request_id`. The domain logs through
 * `ctx.log`, built once per app; this logger looks up the current request's child logger
 * (Fastify's `request.log`, which has `request_id` bound) in an AsyncLocalStorage and falls
 * back to the app logger outside requests (start-up, housekeeping).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from '../domain/context.js';

export class RequestContext {
  private readonly storage = new AsyncLocalStorage<FastifyBaseLogger>();

  /** A Logger for the domain that writes through the current request's logger. */
  logger(base: FastifyBaseLogger): Logger {
    const current = () => this.storage.getStore() ?? base;
    return {
      info: (obj, msg) => (msg === undefined ? current().info(obj) : current().info(obj, msg)),
      warn: (obj, msg) => (msg === undefined ? current().warn(obj) : current().warn(obj, msg)),
      error: (obj, msg) => (msg === undefined ? current().error(obj) : current().error(obj, msg)),
      debug: (obj, msg) => (msg === undefined ? current().debug(obj) : current().debug(obj, msg)),
    };
  }

  /**
   * Enters the request's context in onRequest and again in preValidation: the body is read
   * through stream events that run outside the first context, so the hooks, security
   * handlers and route handler that follow body parsing need it entered again (the same
   * approach as @fastify/request-context).
   */
  install(app: FastifyInstance): void {
    app.addHook('onRequest', (request, _reply, done) => this.storage.run(request.log, done));
    app.addHook('preValidation', (request, _reply, done) => this.storage.run(request.log, done));
  }
}
