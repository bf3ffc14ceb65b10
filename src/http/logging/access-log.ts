/**
 * Fastify's two lines per request ("incoming request", "request completed") without pino's
 * redaction. They carry only what the req and res serializers pick (method, url, host,
 * client address and port; status code and time), which no redaction path can match, yet
 * pino's redaction re-parses every path on every line (see bench/notes.md). So they are written through a child logger with no redaction paths; every
 * other line (errors included) keeps the redacting logger.
 *
 * And when it gives the very same bytes, they are rendered here from pino's own pieces
 * (level prefix, time, bindings, line end, serializers) instead of through pino's generic
 * path (a loop over the fields, a serializer lookup and a type switch per field, the objects
 * the serializers return stringified generically). "The very same" is checked at start-up: probe lines rendered both ways must be
 * equal, and the logger must have nothing that would change a line (mixin, hooks, message
 * prefix, nested key, a stream that wants the line's metadata); otherwise pino renders them.
 * If the req/res serializers ever log headers or bodies, stop using this controller.
 */
import { createRequire } from 'node:module';
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';

export class AccessLogController extends LogController {
  private access: FastifyBaseLogger | undefined;
  private lines: AccessLines | undefined;

  /** The app's logger; the access lines go to a child of it without redaction. */
  useLogger(logger: FastifyBaseLogger): void {
    this.access = logger.child({}, { redact: [] } as never);
    this.lines = accessLines(this.access, this.requestIdLogLabel);
  }

  override incomingRequest(request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (!this.access) return super.incomingRequest(request, reply, metadata);
    if (this.isLogDisabled(request) || !infoEnabled(request)) return;
    if (this.lines) return this.lines.incoming(request);
    this.access.info({ [this.requestIdLogLabel]: request.id, req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (error || !this.access) return super.requestCompleted(error, request, reply, metadata);
    if (this.isLogDisabled(request) || !infoEnabled(request)) return;
    if (this.lines) return this.lines.completed(request, reply);
    this.access.info({ [this.requestIdLogLabel]: request.id, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

interface AccessLines {
  incoming(request: FastifyRequest): void;
  completed(request: FastifyRequest, reply: FastifyReply): void;
}

/** The pino that Fastify logs with (its own dependency), for its symbols. */
function fastifyPino(): { symbols: Record<string, symbol> } | undefined {
  try {
    const require = createRequire(import.meta.url);
    return createRequire(require.resolve('fastify'))('pino');
  } catch {
    return undefined;
  }
}

type PinoInternals = Record<symbol, unknown> & { levels?: { values?: Record<string, number> } };

/** The two lines rendered from pino's pieces, if that gives pino's own bytes; else undefined. */
function accessLines(logger: FastifyBaseLogger, idLabel: string): AccessLines | undefined {
  const sym = fastifyPino()?.symbols;
  if (!sym) return undefined;
  const l = logger as unknown as PinoInternals;
  const hooks = (l[sym.hooksSym!] ?? {}) as Record<string, unknown>;
  const stream = l[sym.streamSym!] as ({ write(line: string): unknown } & Record<symbol, unknown>) | undefined;
  const serializers = (l[sym.serializersSym!] ?? {}) as Record<string, ((value: unknown) => unknown) | undefined>;
  const level = l.levels?.values?.info;
  const prefix = level === undefined ? undefined : (l[sym.lsCacheSym!] as Record<number, string> | undefined)?.[level];
  const time = l[sym.timeSym!] as (() => string) | undefined;
  const chindings = l[sym.chindingsSym!];
  const end = l[sym.endSym!];
  const messageKey = l[sym.messageKeySym!];
  const asJson = l[sym.asJsonSym!] as ((obj: object, msg: string, level: number, time: string) => string) | undefined;
  const { req, res } = serializers;
  if (
    l[sym.mixinSym!] ||
    hooks.logMethod ||
    hooks.streamWrite ||
    l[sym.msgPrefixSym!] ||
    l[sym.nestedKeySym!] ||
    !stream ||
    stream[sym.needsMetadataGsym!] ||
    typeof prefix !== 'string' ||
    typeof time !== 'function' ||
    typeof chindings !== 'string' ||
    typeof end !== 'string' ||
    typeof messageKey !== 'string' ||
    typeof asJson !== 'function' ||
    typeof req !== 'function' ||
    typeof res !== 'function'
  ) {
    return undefined;
  }
  const q = JSON.stringify;
  const idKey = `,${q(idLabel)}:`;
  const incomingMsg = `,${q(messageKey)}:${q('incoming request')}${end}`;
  const completedMsg = `,${q(messageKey)}:${q('request completed')}${end}`;
  const render = {
    incoming: (t: string, request: FastifyRequest) => `${prefix}${t}${chindings}${idKey}${q(request.id)},"req":${q(req(request))}${incomingMsg}`,
    completed: (t: string, request: FastifyRequest, reply: FastifyReply, elapsed: number) =>
      `${prefix}${t}${chindings}${idKey}${q(request.id)},"res":${q(res(reply))},"responseTime":${elapsed}${completedMsg}`,
  };
  // probes: what pino renders for the same objects must be what render gives
  const t = time.call(logger);
  for (const probe of probeRequests()) {
    const reply = { statusCode: 200, elapsedTime: 1.25 } as unknown as FastifyReply;
    const pinoIncoming = asJson.call(logger, { [idLabel]: probe.id, req: probe }, 'incoming request', level!, t);
    const pinoCompleted = asJson.call(logger, { [idLabel]: probe.id, res: reply, responseTime: 1.25 }, 'request completed', level!, t);
    if (pinoIncoming !== render.incoming(t, probe) || pinoCompleted !== render.completed(t, probe, reply, 1.25)) return undefined;
  }
  return {
    incoming: (request) => void stream.write(render.incoming(time.call(logger), request)),
    completed: (request, reply) => void stream.write(render.completed(time.call(logger), request, reply, reply.elapsedTime)),
  };
}

/** Request-like objects with the fields the req serializer reads, awkward values included. */
function probeRequests(): FastifyRequest[] {
  const probe = (id: string, url: string, headers: Record<string, string>, ip: string, port: number | undefined) =>
    ({ id, method: 'POST', url, headers, host: headers.host ?? '', ip, socket: port === undefined ? undefined : { remotePort: port } }) as unknown as FastifyRequest;
  return [
    probe('5b0c0c8e-1d1c-4c36-9f55-7a1d6d0c9e01', '/api/accounts', { host: '127.0.0.1:8080' }, '127.0.0.1', 51234),
    probe('kasisto-req-"42"\\', '/api/x?q="a"\\b\u00e9\u0001', { host: 'h\u00ff"', 'accept-version': '1.0' }, '::ffff:10.0.0.1', undefined),
  ];
}

/** A route's own log level (Fastify's `logLevel`) still applies to its access lines. */
function infoEnabled(request: FastifyRequest): boolean {
  return (request.log as { isLevelEnabled?(level: string): boolean }).isLevelEnabled?.('info') !== false;
}
