/**
 * Prometheus metrics of one connector instance. Each app has its own Registry (tests and
 * benchmarks build many apps in one process); the process metrics (CPU, memory, event
 * loop, GC) describe the process, so they are collected once and merged in at scrape time.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CircuitState } from '../adapters/verify/circuit.js';
import type { VerifyCallEvent } from '../adapters/verify/client.js';

const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class Metrics {
  readonly registry = new Registry();

  private readonly requests = new Counter({
    name: 'connector_http_requests_total',
    help: 'HTTP requests answered, by operation (Kasisto operationId, probe or "unmatched") and status',
    labelNames: ['operation', 'status'] as const,
    registers: [this.registry],
  });

  private readonly requestSeconds = new Histogram({
    name: 'connector_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by operation and status',
    labelNames: ['operation', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  private readonly verifyCalls = new Counter({
    name: 'connector_verify_calls_total',
    help: 'HTTP attempts to Verify, by Verify operationId and outcome (ok, timeout, unreachable, server, rejected, contract)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly verifySeconds = new Histogram({
    name: 'connector_verify_call_duration_seconds',
    help: 'Duration of one HTTP attempt to Verify, by operation and outcome',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly circuit = new Gauge({
    name: 'connector_verify_circuit_state',
    help: 'Circuit breaker in front of Verify: 0 closed, 1 half_open, 2 open',
    registers: [this.registry],
  });

  constructor() {
    this.circuit.set(0);
  }

  observeRequest(operation: string, status: number, seconds: number): void {
    const labels = { operation, status: String(status) };
    this.requests.inc(labels);
    this.requestSeconds.observe(labels, seconds);
  }

  observeVerifyCall(event: VerifyCallEvent): void {
    const labels = { operation: event.operation, outcome: event.outcome };
    this.verifyCalls.inc(labels);
    this.verifySeconds.observe(labels, event.durationMs / 1000);
  }

  setCircuitState(state: CircuitState): void {
    this.circuit.set(CIRCUIT_VALUE[state]);
  }

  /** The exposition text: this instance's metrics plus the process metrics. */
  async render(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([processMetrics(), this.registry]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}
