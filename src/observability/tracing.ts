/**
 * Tracing with OpenTelemetry (issue 13): one SERVER span per Kasisto operation, one CLIENT
 * span per Verify call (all its attempts), W3C `traceparent` accepted from Kasisto and sent
 * to Verify. Off by default; configured by the standard OTEL_* variables, exported over
 * OTLP/HTTP (JSON) in batches.
 *
 * No global provider, propagator or context manager is registered: the request's span
 * travels in the request scope that already exists (request-scope.ts), so tracing adds no
 * AsyncLocalStorage, and nothing runs per request when it is off (no hooks are added).
 *
 * Spans carry operationIds, statuses, retry counts and outcomes only: never a path (it holds
 * ids), a user, an account, an amount or a token.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { FastifyRequest } from 'fastify';

export const DEFAULT_SERVICE_NAME = 'kasisto-connector';

/** What a test (or an embedder) may hand in instead of the OTLP exporter the variables configure. */
export interface TracingOptions {
  /** Used as is (e.g. a SimpleSpanProcessor over an InMemorySpanExporter); tracing is then on whatever the variables say. */
  spanProcessor?: SpanProcessor;
  /** Batched like the OTLP exporter; tracing is then on whatever the variables say. */
  exporter?: SpanExporter;
}

/** The Verify call's span, as the Verify client sees it (src/adapters/verify/client.ts). */
export interface VerifyCallTrace {
  /** `traceparent` (and `tracestate`) naming this span, for the request to Verify. */
  readonly headers: Readonly<Record<string, string>>;
  /** HTTP attempts made so far and the last answer's status; set by the client as it goes. */
  attempts: number;
  status: number | undefined;
  end(outcome: string): void;
}

/** A Kasisto request's span, kept in the request scope so that its Verify calls become its children. */
export interface RequestTrace {
  startVerifyCall(operation: string): VerifyCallTrace;
}

/** Truthy per the OTEL spec's boolean parsing: only "true" (any case) is true. */
const isTrue = (value: string | undefined): boolean => value?.trim().toLowerCase() === 'true';
const isSet = (value: string | undefined): boolean => value !== undefined && value.trim() !== '';

/**
 * Whether the standard variables ask for traces: OTEL_TRACES_EXPORTER=otlp, or an OTLP
 * endpoint given (OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none wins.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (isTrue(env.OTEL_SDK_DISABLED)) return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (exporters.includes('none')) return false;
  if (exporters.includes('otlp')) return true;
  return isSet(env.OTEL_EXPORTER_OTLP_ENDPOINT) || isSet(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

const propagator = new W3CTraceContextPropagator();
const requestSpans = new WeakMap<FastifyRequest, Span>();

export class Tracing {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;

  constructor(processor: SpanProcessor, serviceName: string) {
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': serviceName }),
      spanProcessors: [processor],
    });
    this.tracer = this.provider.getTracer('kasisto-connector');
  }

  /**
   * Starts the request's SERVER span, a child of Kasisto's `traceparent` when it sent one,
   * and returns what the request scope keeps for its Verify calls.
   */
  startRequest(request: FastifyRequest, revision: string): RequestTrace {
    const operationId = (request.routeOptions.schema as { operationId?: unknown } | undefined)?.operationId;
    const operation = typeof operationId === 'string' ? operationId : 'unmatched';
    const parent = propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
    const span = this.tracer.startSpan(
      `kasisto ${operation}`,
      { kind: SpanKind.SERVER, attributes: { 'kasisto.operation': operation, 'kasisto.api_revision': revision } },
      parent,
    );
    requestSpans.set(request, span);
    const tracer = this.tracer;
    const context = trace.setSpan(parent, span);
    return {
      startVerifyCall(verifyOperation) {
        const child = tracer.startSpan(`verify ${verifyOperation}`, { kind: SpanKind.CLIENT, attributes: { 'verify.operation': verifyOperation } }, context);
        const headers: Record<string, string> = {};
        propagator.inject(trace.setSpan(ROOT_CONTEXT, child), headers, defaultTextMapSetter);
        return {
          headers,
          attempts: 0,
          status: undefined,
          end(outcome) {
            child.setAttribute('verify.outcome', outcome);
            child.setAttribute('verify.retries', Math.max(0, this.attempts - 1));
            if (this.status !== undefined) child.setAttribute('http.response.status_code', this.status);
            if (outcome !== 'ok') child.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
            child.end();
          },
        };
      },
    };
  }

  /** Ends the request's span with the status answered (5xx: an error). */
  endRequest(request: FastifyRequest, statusCode: number): void {
    const span = requestSpans.get(request);
    if (span === undefined) return;
    requestSpans.delete(request);
    span.setAttribute('http.response.status_code', statusCode);
    if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }

  /** Sends what is still batched, then stops (Connector.stop()). */
  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

/**
 * The connector's tracing, or undefined when it is off (then nothing is loaded per request).
 * On when the standard variables ask for it (tracingRequested) or when a processor or
 * exporter is handed in.
 */
export function createTracing(options: TracingOptions = {}, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const serviceName = isSet(env.OTEL_SERVICE_NAME) ? env.OTEL_SERVICE_NAME!.trim() : DEFAULT_SERVICE_NAME;
  if (options.spanProcessor) return new Tracing(options.spanProcessor, serviceName);
  if (options.exporter) return new Tracing(new BatchSpanProcessor({ exporter: options.exporter }), serviceName);
  if (!tracingRequested(env)) return undefined;
  // the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT itself;
  // the batch processor reads OTEL_BSP_*
  return new Tracing(new BatchSpanProcessor({ exporter: new OTLPTraceExporter() }), serviceName);
}
