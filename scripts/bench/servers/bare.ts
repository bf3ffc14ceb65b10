/**
 * Benchmark server (a): bare Fastify, the machine's ceiling. It answers `POST /api/accounts`
 * with the very JSON body the connector returns (BENCH_BODY_FILE), after checking the
 * `secret` and `token` headers, with no logging, validation, store or Verify behind it.
 * Prints one JSON line `{"port":N}` on stdout when ready; SIGTERM stops it.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const body = JSON.parse(readFileSync(process.env.BENCH_BODY_FILE ?? '', 'utf8')) as unknown;
const secret = process.env.KASISTO_SECRET ?? '';

const app = Fastify({ logger: false });
app.post('/api/accounts', async (request, reply) => {
  if (request.headers.secret !== secret || typeof request.headers.token !== 'string') {
    return reply.code(401).send({ code: 'unauthorized', message: 'The secret header is missing or wrong' });
  }
  return body;
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(address).port) })}\n`);

const stop = () => void app.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
