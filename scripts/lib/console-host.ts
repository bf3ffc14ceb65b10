/**
 * A console host: a Fastify app serving the operator console (console/server.ts) and, under
 * /operator/v1, a proxy to an operator API: Prism serving spec/operator.yaml (the console's
 * browser tests, `npm run console:mock`) or a real operator listener (the end-to-end test).
 * Loopback only.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { consolePlugin } from '../../console/server.js';

export const API_PREFIX = '/operator/v1';

/** A key of the role-emulating front for Prism (Prism itself accepts any Bearer key). */
export interface EmulatedKey {
  name: string;
  role: 'viewer' | 'settler';
  key: string;
}

/** Operations a viewer may not call: the contract's settler-only operations (every POST). */
function settlerOnly(method: string, path: string): boolean {
  return method === 'POST' && /^\/(batches(\/[^/]+\/paid)?|obligations\/[^/]+\/returned|reconciliations)$/.test(path);
}

export interface ConsoleHost {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Serves the console and proxies /operator/v1/* to `upstream` (an origin + /operator/v1).
 * With `emulate`, the proxy plays the contract's key rules in front of Prism: an unknown
 * key gets Prism's 401 example, a viewer calling a settler operation its 403 `viewer`
 * example (`Prefer: code=…`); the request still reaches Prism, which checks it against the
 * contract.
 */
export async function startConsoleHost(upstream: string, emulate?: EmulatedKey[], port = 0): Promise<ConsoleHost> {
  const app = Fastify({ logger: false });
  await app.register(consolePlugin);
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.all(`${API_PREFIX}/*`, async (request, reply) => {
    const target = new URL(upstream.replace(/\/$/, '') + request.url.slice(API_PREFIX.length));
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'content-type', 'accept']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (emulate) {
      const presented = headers.authorization?.replace(/^Bearer /i, '');
      const key = emulate.find((k) => k.key === presented);
      if (!key) headers.prefer = 'code=401';
      // Refused before the body is looked at, as the real API does (Prism would check the
      // body first and answer its 400 for an invalid one).
      else if (key.role === 'viewer' && settlerOnly(request.method, request.url.slice(API_PREFIX.length).split('?')[0]!))
        return reply.code(403).send({ code: 'forbidden', message: `this operation needs role settler; key ${key.name} has role viewer` });
    }
    const body = request.body instanceof Buffer && request.body.length > 0 ? request.body : undefined;
    const res = await fetch(target, { method: request.method, headers, body, redirect: 'manual' });
    reply.code(res.status);
    for (const name of ['content-type', 'content-disposition', 'location', 'cache-control']) {
      const value = res.headers.get(name);
      if (value) reply.header(name, value);
    }
    return reply.send(Buffer.from(await res.arrayBuffer()));
  });
  const url = await app.listen({ host: '127.0.0.1', port });
  return { url, app, close: () => app.close() };
}
