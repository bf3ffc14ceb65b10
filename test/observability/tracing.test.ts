/**
 * Tracing (issue 13, item 5): one SERVER span per Kasisto operation, one CLIENT span per
 * Verify call, W3C traceparent accepted and propagated, no personal data in spans, an
 * OTLP/HTTP exporter configured by OTEL_* and off by default.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildSandbox, type Sandbox } from '../../src/sandbox/app.js';
import { createTracing, tracingRequested } from '../../src/observability/tracing.js';
import { startTestConnector, type TestConnector } from '../helpers/connector.js';

const listen = (server: Server): Promise<string> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
const closeServer = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** A pass-through proxy in front of a standalone sandbox that keeps the headers of every request to Verify. */
async function recordingProxy(target: string): Promise<{ server: Server; url: string; seen: { path: string; headers: IncomingHttpHeaders }[] }> {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const base = new URL(target);
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    const upstream = httpRequest(
      { host: base.hostname, port: base.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return { server, url: await listen(server), seen };
}

const byName = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

describe('tracing with an in-memory exporter', () => {
  const exporter = new InMemorySpanExporter();
  const processor = new SimpleSpanProcessor({ exporter });
  /** The spans finished so far: inject() resolves before Fastify's onResponse, which ends the request's span. */
  const finished = async (): Promise<ReadableSpan[]> => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    await processor.forceFlush();
    return exporter.getFinishedSpans();
  };
  let sandbox: Sandbox;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let c: TestConnector;

  beforeAll(async () => {
    sandbox = await buildSandbox({ logger: false });
    proxy = await recordingProxy(await sandbox.app.listen({ host: '127.0.0.1', port: 0 }));
    c = await startTestConnector(
      { VERIFY_BASE_URL: proxy.url, VERIFY_SECRET_KEY: 'sk_test_tracing', VERIFY_PUBLIC_KEY: 'pk_test_tracing' },
      { tracing: { spanProcessor: processor } },
    );
  });
  afterAll(async () => {
    await c?.close();
    if (proxy) await closeServer(proxy.server);
    await sandbox?.app.close();
  });
  afterEach(() => {
    exporter.reset();
    proxy.seen.length = 0;
    sandbox.faults.clear();
  });

  it('a /token call is a kasisto span with its Verify calls as children, without personal data', async () => {
    const res = await c.call('token', { username: 'test', password: 'test_pass' });
    expect(res.statusCode).toBe(200);
    const { user_id: userId, token } = res.json() as { user_id: string; token: string };
    const spans = await finished();
    const [server] = byName(spans, 'kasisto createToken');
    expect(server).toBeDefined();
    expect(server!.kind).toBe(SpanKind.SERVER);
    expect(server!.parentSpanContext).toBeUndefined();
    expect(server!.attributes).toMatchObject({ 'kasisto.operation': 'createToken', 'kasisto.api_revision': '1.0', 'http.response.status_code': 200 });
    expect(server!.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(server!.resource.attributes['service.name']).toBe('kasisto-connector');

    const children = spans.filter((s) => s.name.startsWith('verify '));
    expect(children.map((s) => s.name)).toEqual(expect.arrayContaining(['verify createSession', 'verify loginSession']));
    for (const child of children) {
      expect(child.kind).toBe(SpanKind.CLIENT);
      expect(child.spanContext().traceId).toBe(server!.spanContext().traceId);
      expect(child.parentSpanContext?.spanId).toBe(server!.spanContext().spanId);
      expect(child.attributes).toMatchObject({ 'verify.outcome': 'ok', 'verify.retries': 0 });
      expect(child.attributes['verify.operation']).toBe(child.name.slice('verify '.length));
      expect(child.attributes['http.response.status_code']).toEqual(expect.any(Number));
    }

    // what Verify received: the traceparent of each call's own span, in the same trace
    const traceparents = proxy.seen.map((r) => r.headers.traceparent);
    expect(traceparents.length).toBe(children.length);
    for (const tp of traceparents) {
      expect(tp).toMatch(new RegExp(`^00-${server!.spanContext().traceId}-[0-9a-f]{16}-01$`));
    }
    expect(new Set(traceparents)).toEqual(new Set(children.map((s) => `00-${s.spanContext().traceId}-${s.spanContext().spanId}-01`)));

    // nothing personal: no username, password, user id, token, Verify ids or paths
    const sessionIds = proxy.seen.map((r) => /\/sessions\/([^/?]+)/.exec(r.path)?.[1]).filter((id): id is string => id !== undefined);
    expect(sessionIds.length).toBeGreaterThan(0);
    const everything = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })));
    for (const secret of ['test_pass', userId, token, ...sessionIds, '/sessions', '"test"']) {
      expect(everything).not.toContain(secret);
    }
  });

  it('an /accounts call joins the trace Kasisto sent (traceparent) and a retried Verify GET counts its retries', async () => {
    const { userId, token } = await c.signIn();
    await finished();
    exporter.reset();
    proxy.seen.length = 0;
    sandbox.faults.set('listBankAccounts', { status: 503, times: 1 });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const res = await c.call('accounts', { user_id: userId }, { token, traceparent: `00-${traceId}-${parentId}-01`, tracestate: 'kasisto=1' });
    expect(res.statusCode).toBe(200);
    const spans = await finished();
    const [server] = byName(spans, 'kasisto listAccounts');
    expect(server, spans.map((s) => s.name).join(', ')).toBeDefined();
    expect(server!.spanContext().traceId).toBe(traceId);
    expect(server!.parentSpanContext?.spanId).toBe(parentId);
    expect(server!.parentSpanContext?.isRemote).toBe(true);

    const [list] = byName(spans, 'verify listBankAccounts');
    expect(list).toBeDefined();
    expect(list!.spanContext().traceId).toBe(traceId);
    expect(list!.parentSpanContext?.spanId).toBe(server!.spanContext().spanId);
    expect(list!.attributes).toMatchObject({ 'verify.operation': 'listBankAccounts', 'verify.retries': 1, 'verify.outcome': 'ok', 'http.response.status_code': 200 });

    // both attempts carried the call's traceparent, and Kasisto's tracestate went along
    const listCalls = proxy.seen.filter((r) => r.path.endsWith('/bank_accounts'));
    expect(listCalls).toHaveLength(2);
    for (const r of listCalls) {
      expect(r.headers.traceparent).toBe(`00-${traceId}-${list!.spanContext().spanId}-01`);
      expect(r.headers.tracestate).toBe('kasisto=1');
    }
    const everything = JSON.stringify(spans.map((s) => s.attributes));
    for (const secret of [userId, token]) expect(everything).not.toContain(secret);
  });

  it('a failed Verify call is an error span with its outcome, and a 5xx answer marks the kasisto span', async () => {
    const { userId, token } = await c.signIn();
    await finished();
    exporter.reset();
    sandbox.faults.set('listBankAccounts', { status: 500 });
    const res = await c.call('accounts', { user_id: userId }, { token });
    expect(res.statusCode).toBeGreaterThanOrEqual(500);
    const spans = await finished();
    const [list] = byName(spans, 'verify listBankAccounts');
    expect(list!.attributes).toMatchObject({ 'verify.outcome': 'server', 'http.response.status_code': 500, 'verify.retries': 0 });
    expect(list!.status.code).toBe(SpanStatusCode.ERROR);
    const [server] = byName(spans, 'kasisto listAccounts');
    expect(server!.attributes['http.response.status_code']).toBe(res.statusCode);
    expect(server!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('an unmatched path is `kasisto unmatched`, without its path', async () => {
    const res = await c.app.inject({ method: 'POST', url: `${c.config.basePath}/no_such_thing_u123`, headers: { secret: 'wrong' } });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    const spans = await finished();
    expect(spans.map((s) => s.name)).toEqual(['kasisto unmatched']);
    expect(JSON.stringify(spans[0]!.attributes)).not.toContain('u123');
  });

  it('probes and /metrics are not traced', async () => {
    expect((await c.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(await finished()).toEqual([]);
  });
});

describe('tracing over OTLP/HTTP', () => {
  const OTEL_KEYS = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME', 'OTEL_BSP_SCHEDULE_DELAY'] as const;
  const saved: Partial<Record<string, string | undefined>> = {};
  let receiver: Server;
  const bodies: { path: string; contentType: string | undefined; body: unknown }[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        bodies.push({ path: req.url ?? '', contentType: req.headers['content-type'], body: JSON.parse(text) as unknown });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const url = await listen(receiver);
    for (const key of OTEL_KEYS) saved[key] = process.env[key];
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = url;
    process.env.OTEL_SERVICE_NAME = 'connector-under-test';
    process.env.OTEL_BSP_SCHEDULE_DELAY = '60000'; // only the flush at stop() sends
  });
  afterAll(async () => {
    for (const key of OTEL_KEYS) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    await closeServer(receiver);
  });

  it('the spans reach a local OTLP/HTTP receiver when the connector stops (flush)', async () => {
    const c = await startTestConnector();
    try {
      expect(c.tracing).toBeDefined();
      await c.signIn();
      expect(bodies).toEqual([]); // batched, not sent per span
    } finally {
      await c.close();
    }
    expect(bodies.length).toBeGreaterThan(0);
    expect(bodies.every((b) => b.path === '/v1/traces' && b.contentType?.startsWith('application/json'))).toBe(true);
    type OtlpSpan = { name: string; traceId: string; spanId: string; parentSpanId?: string };
    type Otlp = { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
    const resourceSpans = bodies.flatMap((b) => (b.body as Otlp).resourceSpans);
    const spans = resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    expect(spans.map((span) => span.name)).toEqual(expect.arrayContaining(['kasisto createToken', 'verify createSession', 'verify loginSession']));
    // the JSON encoding keeps the family: the Verify calls are children of the Kasisto span
    const server = spans.find((span) => span.name === 'kasisto createToken')!;
    for (const child of spans.filter((span) => span.name.startsWith('verify '))) {
      expect(child.traceId).toBe(server.traceId);
      expect(child.parentSpanId).toBe(server.spanId);
    }
    const serviceNames = resourceSpans.map((r) => r.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue);
    expect(new Set(serviceNames)).toEqual(new Set(['connector-under-test']));
  });
});

describe('tracing is off by default', () => {
  it('asks for nothing without OTEL_* variables, and OTEL_SDK_DISABLED wins', () => {
    expect(tracingRequested({})).toBe(false);
    expect(createTracing({}, {})).toBeUndefined();
    expect(tracingRequested({ OTEL_SERVICE_NAME: 'x' })).toBe(false);
    expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('a connector started without them has no tracing, and still answers', async () => {
    for (const key of Object.keys(process.env)) expect(key.startsWith('OTEL_'), key).toBe(false);
    const c = await startTestConnector();
    try {
      expect(c.tracing).toBeUndefined();
      const { token } = await c.signIn();
      expect(token).toBeTruthy();
    } finally {
      await c.close();
    }
  });
});
