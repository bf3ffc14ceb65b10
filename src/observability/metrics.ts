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

  /** connector_http_requests_total and connector_http_request_duration_seconds (see RequestTallies). */
  private readonly requests = new RequestTallies(this.registry);

  private readonly verifyCalls = new Counter({
    name: 'connector_verify_calls_total',
    help: 'HTTP attempts to Verify, by Verify operationId and outcome (ok, timeout, unreachable, server, rejected, contract; overloaded = shed by our own pool, not sent)',
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

  // named as issue 12 asks (no connector_ prefix): drift is Verify's, not ours
  private readonly verifyDrift = new Counter({
    name: 'verify_contract_drift_total',
    help: 'Verify answers that departed from spec/verify.yaml in a tolerated way, by operation and kind (unknown_enum, missing_field, pattern_mismatch)',
    labelNames: ['operation', 'kind'] as const,
    registers: [this.registry],
  });

  private readonly circuit = new Gauge({
    name: 'connector_verify_circuit_state',
    help: 'Circuit breaker in front of Verify: 0 closed, 1 half_open, 2 open',
    registers: [this.registry],
  });

  /** Counts stuck movements when scraped (see watchStuckMovements); none until one is set. */
  private stuckMovements: (() => Promise<number>) | undefined;

  // Issue 11: what the monitoring rules watch. Set from the latest stored report (at start-up
  // and after every run, daily or on demand); an instance that never ran one reads it from the store.
  private readonly reconciliationUnexplained = new Gauge({
    name: 'connector_reconciliation_unexplained_mismatches',
    help: 'Mismatches between the ledger and Verify that the latest reconciliation report flagged for a person (not corrected automatically)',
    registers: [this.registry],
  });

  constructor() {
    this.circuit.set(0);
    const metrics = this;
    new Gauge({
      name: 'connector_movements_stuck_in_flight',
      help: 'Movements in a non-final, non-OTP state not updated for longer than the stuck threshold (read from the store at scrape time)',
      registers: [this.registry],
      async collect() {
        if (metrics.stuckMovements) this.set(await metrics.stuckMovements());
      },
    });
  }

  /** The source of connector_movements_stuck_in_flight (src/observability/stuck-movements.ts). */
  watchStuckMovements(count: () => Promise<number>): void {
    this.stuckMovements = count;
  }

  /** The Verify pool's queue depth, attempts in flight and calls shed, read at scrape time (no cost per call). */
  watchVerifyPool(stats: () => { size: number; inFlight: number; queued: number; shed: number }): void {
    const gauge = (name: string, help: string, read: (s: ReturnType<typeof stats>) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(stats()));
        },
      });
    gauge('connector_verify_queue_depth', 'Verify calls waiting for a connection of our pool', (s) => s.queued);
    gauge('connector_verify_in_flight', 'Verify attempts in flight (at most connector_verify_pool_size)', (s) => s.inFlight);
    gauge('connector_verify_pool_size', 'Connections of the pool to Verify (VERIFY_POOL_CONNECTIONS)', (s) => s.size);
    gauge('connector_verify_shed_total', 'Verify calls refused by our pool since start (no room within the request budget, or the customer cap): answered 503 + Retry-After', (s) => s.shed);
  }

  observeRequest(operation: string, status: number, seconds: number): void {
    this.requestObserver(operation)(status, seconds);
  }

  setReconciliationUnexplained(count: number): void {
    this.reconciliationUnexplained.set(count);
  }

  /** Counts the requests of one operation (made once per route, called once per request). */
  requestObserver(operation: string): (status: number, seconds: number) => void {
    return this.requests.observer(operation);
  }

  observeVerifyCall(event: VerifyCallEvent): void {
    const labels = { operation: event.operation, outcome: event.outcome };
    this.verifyCalls.inc(labels);
    this.verifySeconds.observe(labels, event.durationMs / 1000);
  }

  observeVerifyDrift(event: { operation: string; kind: string }): void {
    this.verifyDrift.inc({ operation: event.operation, kind: event.kind });
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

const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Tally {
  labels: { operation: string; status: string };
  count: number;
  sum: number;
  /** per bucket of REQUEST_BUCKETS, not cumulative; past the last one only `count` grows */
  buckets: number[];
}

/**
 * The request counter and histogram, kept as plain numbers per (operation, status) and
 * turned into prom-client's metric objects only when scraped. prom-client's own Counter and
 * Histogram validate and hash the label object on every call, twice per request: a cost
 * on every answer for a figure read every few seconds. The exposition is the same as theirs
 * (the registry formats both).
 */
class RequestTallies {
  private readonly tallies: Tally[] = [];

  constructor(registry: Registry) {
    const counter = {
      name: 'connector_http_requests_total',
      help: 'HTTP requests answered, by operation (Kasisto operationId, probe or "unmatched") and status',
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({ ...counter, values: this.tallies.map((t) => ({ labels: t.labels, value: t.count })) }),
      reset: () => this.reset(),
    };
    const name = 'connector_http_request_duration_seconds';
    const histogram = {
      name,
      help: 'Time to answer an HTTP request, by operation and status',
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({ ...histogram, values: this.tallies.flatMap((t) => histogramValues(name, t)) }),
      reset: () => this.reset(),
    };
    // the registry only reads name, help, type, aggregator and get() (and reset() on resetMetrics)
    registry.registerMetric(counter as never);
    registry.registerMetric(histogram as never);
  }

  observer(operation: string): (status: number, seconds: number) => void {
    const byStatus = new Map<number, Tally>();
    return (status, seconds) => {
      let tally = byStatus.get(status);
      if (tally === undefined) {
        tally = this.tally(operation, status);
        byStatus.set(status, tally);
      }
      tally.count += 1;
      tally.sum += seconds;
      for (let i = 0; i < REQUEST_BUCKETS.length; i++) {
        if (seconds <= REQUEST_BUCKETS[i]!) {
          tally.buckets[i]! += 1;
          break;
        }
      }
    };
  }

  /** One tally per label pair, shared by every observer of the operation. */
  private tally(operation: string, status: number): Tally {
    const labels = { operation, status: String(status) };
    let tally = this.tallies.find((t) => t.labels.operation === operation && t.labels.status === labels.status);
    if (tally === undefined) {
      tally = { labels, count: 0, sum: 0, buckets: REQUEST_BUCKETS.map(() => 0) };
      this.tallies.push(tally);
    }
    return tally;
  }

  private reset(): void {
    for (const tally of this.tallies) {
      tally.count = 0;
      tally.sum = 0;
      tally.buckets.fill(0);
    }
  }
}

/** As prom-client's Histogram exports one label set: cumulative buckets (le first), +Inf, sum, count. */
function histogramValues(name: string, t: Tally) {
  let cumulative = 0;
  const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = REQUEST_BUCKETS.map((le, i) => {
    cumulative += t.buckets[i]!;
    return { labels: { le, ...t.labels }, value: cumulative, metricName: `${name}_bucket` };
  });
  values.push({ labels: { le: '+Inf', ...t.labels }, value: t.count, metricName: `${name}_bucket` });
  values.push({ labels: t.labels, value: t.sum, metricName: `${name}_sum` });
  values.push({ labels: t.labels, value: t.count, metricName: `${name}_count` });
  return values;
}
