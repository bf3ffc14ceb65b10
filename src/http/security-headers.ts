/**
 * Helmet's security headers, worked out once. @fastify/helmet builds helmet's middleware
 * anew on every request (parsing the CSP directives each time: about 6% of the CPU of a
 * cached /accounts call). Without CSP nonces the headers never change, so helmet is asked
 * once, at start-up, on a throwaway instance, and every reply gets exactly those headers.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyHelmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import fp from 'fastify-plugin';

/** The headers @fastify/helmet adds to a reply with these options. */
export async function helmetHeaders(options: FastifyHelmetOptions): Promise<Record<string, string>> {
  const answer = async (withHelmet: boolean) => {
    const probe = Fastify({ logger: false });
    if (withHelmet) await probe.register(fastifyHelmet, options);
    probe.get('/', async () => ({}));
    const res = await probe.inject({ method: 'GET', url: '/' });
    await probe.close();
    return res.headers;
  };
  const [secured, plain] = await Promise.all([answer(true), answer(false)]);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(secured)) {
    if (value !== undefined && plain[name] === undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return headers;
}

export type SecurityHeadersOptions = FastifyHelmetOptions & {
  /** More fixed headers for every reply (e.g. cache-control), set in the same call. */
  alsoSet?: Record<string, string>;
};

/** Sets helmet's headers (computed once) on every reply, before anything can fail. */
export const securityHeaders = fp(
  async function securityHeaders(app: FastifyInstance, { alsoSet, ...options }: SecurityHeadersOptions) {
    const headers = { ...(await helmetHeaders(options)), ...alsoSet };
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });
  },
  { name: 'security-headers', fastify: '5.x' },
);
