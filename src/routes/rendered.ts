/**
 * Answers kept already serialised. They are made by the route's schema-compiled serializer
 * for its 200 answer (the one Fastify itself sends every answer through), so a kept answer
 * is byte for byte what Fastify would send; kept as UTF-8 bytes, so sending one neither
 * measures (Content-Length) nor encodes it again.
 */
import type { FastifyReply } from 'fastify';

/** The 200 body as the route's serializer writes it. */
export function render200(reply: FastifyReply, body: unknown): Buffer {
  const serialize = reply.getSerializationFunction('200', 'application/json') as ((value: unknown) => string) | undefined;
  if (typeof serialize !== 'function') throw new Error(`no compiled serializer for the 200 answer of ${reply.request.url}`);
  return Buffer.from(serialize(body), 'utf8');
}

/** Sends a rendered body (bytes with a JSON content type are sent as they are). */
export function sendRendered(reply: FastifyReply, body: Buffer): never {
  return reply.type('application/json; charset=utf-8').send(body) as never;
}
