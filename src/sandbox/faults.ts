/**
 * Fault injection for reliability tests: per operationId (or '*' for every operation),
 * switchable at run time, applied with Fastify hooks.
 *
 * - `latencyMs`: wait before handling (onRequest); combines with every other effect.
 * - `latencyMedianMs` + `latencyP99Ms`: wait a latency drawn for each call from a log-normal
 *   distribution with that median and 99th percentile (a slow bank: most calls near the
 *   median, a long tail); instead of `latencyMs`, combines like it.
 * - `status`: answer this status with an error body, without doing the work.
 * - `drop`: destroy the socket without answering.
 * - `malformed`: answer 200 with a body that breaks the spec (`{"id":42}`).
 * - `afterHandler` (with `drop` or `malformed`): do the real work first, then lose or
 *   corrupt the answer (onSend) — a lost reply after the side effect.
 * - `times`: apply to the next N calls only, then clear itself.
 *
 * A fault for the operation itself wins over the '*' fault.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, genericMessage } from './errors.js';
import { isOperationId } from './operations.js';
import type { OperationId } from './types.js';

export interface Fault {
  latencyMs?: number;
  latencyMedianMs?: number;
  latencyP99Ms?: number;
  status?: number;
  drop?: boolean;
  malformed?: boolean;
  afterHandler?: boolean;
  times?: number;
}

export type FaultTarget = OperationId | '*';

/** The body a `malformed` fault answers: valid JSON, but no operation's 200 schema accepts it. */
export const MALFORMED_BODY = '{"id":42}';

/** Header telling which injected fault shaped a response (diagnostics only). */
export const FAULT_HEADER = 'x-sandbox-fault';

const KEYS = new Set(['latencyMs', 'latencyMedianMs', 'latencyP99Ms', 'status', 'drop', 'malformed', 'afterHandler', 'times']);
const MAX_LATENCY_MS = 120_000;

export function isFaultTarget(value: unknown): value is FaultTarget {
  return value === '*' || isOperationId(value);
}

/** Checks a fault given by a test or by the control endpoint; throws a TypeError naming the problem. */
export function parseFault(input: unknown): Fault {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new TypeError('fault must be an object');
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!KEYS.has(key)) throw new TypeError(`unknown fault property: ${key}`);
  }
  const fault: Fault = {};
  const int = (key: 'latencyMs' | 'latencyMedianMs' | 'latencyP99Ms' | 'status' | 'times', min: number, max: number) => {
    const v = raw[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new TypeError(`${key} must be an integer from ${min} to ${max}`);
    }
    fault[key] = v;
  };
  const bool = (key: 'drop' | 'malformed' | 'afterHandler') => {
    const v = raw[key];
    if (v === undefined) return;
    if (typeof v !== 'boolean') throw new TypeError(`${key} must be a boolean`);
    fault[key] = v;
  };
  int('latencyMs', 0, MAX_LATENCY_MS);
  int('latencyMedianMs', 1, MAX_LATENCY_MS);
  int('latencyP99Ms', 1, MAX_LATENCY_MS);
  const distribution = fault.latencyMedianMs !== undefined || fault.latencyP99Ms !== undefined;
  if (distribution) {
    if (fault.latencyMedianMs === undefined || fault.latencyP99Ms === undefined) throw new TypeError('latencyMedianMs and latencyP99Ms go together');
    if (fault.latencyP99Ms < fault.latencyMedianMs) throw new TypeError('latencyP99Ms must be at least latencyMedianMs');
    if (fault.latencyMs !== undefined) throw new TypeError('latencyMs and latencyMedianMs/latencyP99Ms exclude each other');
  }
  int('status', 400, 599);
  int('times', 1, 1_000_000);
  bool('drop');
  bool('malformed');
  bool('afterHandler');
  const effects = [fault.status !== undefined, fault.drop === true, fault.malformed === true].filter(Boolean).length;
  if (effects > 1) throw new TypeError('status, drop and malformed exclude each other');
  if (fault.afterHandler && !fault.drop && !fault.malformed) throw new TypeError('afterHandler needs drop or malformed');
  if (effects === 0 && !fault.latencyMs && !distribution) throw new TypeError('fault has no effect: give latencyMs, latencyMedianMs/latencyP99Ms, status, drop or malformed');
  return fault;
}

interface Entry {
  fault: Fault;
  remaining: number | undefined;
}

export class FaultController {
  private readonly entries = new Map<FaultTarget, Entry>();

  /** Sets (replaces) the fault of an operation, or of every operation with '*'. */
  set(target: FaultTarget, fault: Fault): void {
    if (!isFaultTarget(target)) throw new TypeError(`unknown operationId: ${String(target)}`);
    const parsed = parseFault(fault);
    this.entries.set(target, { fault: parsed, remaining: parsed.times });
  }

  /** Clears one operation's fault ('*' clears only the '*' fault), or all faults. */
  clear(target?: FaultTarget): void {
    if (target === undefined) this.entries.clear();
    else this.entries.delete(target);
  }

  /** The fault in force for a target, with `times` = the applications left. */
  get(target: FaultTarget): Fault | undefined {
    const entry = this.entries.get(target);
    if (!entry) return undefined;
    return { ...entry.fault, ...(entry.remaining !== undefined ? { times: entry.remaining } : {}) };
  }

  list(): Partial<Record<FaultTarget, Fault>> {
    const out: Partial<Record<FaultTarget, Fault>> = {};
    for (const target of this.entries.keys()) out[target] = this.get(target);
    return out;
  }

  /** Claims the fault for one call of `operationId` (counting down `times`). */
  take(operationId: OperationId): Fault | undefined {
    const target: FaultTarget | undefined = this.entries.has(operationId) ? operationId : this.entries.has('*') ? '*' : undefined;
    if (target === undefined) return undefined;
    const entry = this.entries.get(target)!;
    if (entry.remaining !== undefined) {
      entry.remaining -= 1;
      if (entry.remaining <= 0) this.entries.delete(target);
    }
    return entry.fault;
  }
}

/** z of the 99th percentile of the standard normal distribution. */
const Z99 = 2.3263478740408408;

/**
 * A latency drawn from the log-normal distribution with this median and 99th percentile
 * (ln X ~ N(ln median, σ) with σ = ln(p99 / median) / z99), capped at MAX_LATENCY_MS.
 * `random` is injectable for tests.
 */
export function drawLatencyMs(medianMs: number, p99Ms: number, random: () => number = Math.random): number {
  const sigma = Math.log(p99Ms / medianMs) / Z99;
  // Box–Muller; 1 - random() is in (0, 1], so the logarithm is finite
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.min(MAX_LATENCY_MS, Math.round(medianMs * Math.exp(sigma * z)));
}

/** The wait a fault asks for before handling (0 for none). */
export function latencyOf(fault: Fault): number {
  if (fault.latencyMedianMs !== undefined && fault.latencyP99Ms !== undefined) return drawLatencyMs(fault.latencyMedianMs, fault.latencyP99Ms);
  return fault.latencyMs ?? 0;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function destroyConnection(request: FastifyRequest): void {
  request.raw.socket?.destroy();
}

/**
 * Installs the hooks. `operationIdOf` tells which operation a request is for (undefined
 * for routes outside the spec, which faults never touch).
 */
export function installFaultHooks(
  app: FastifyInstance,
  faults: FaultController,
  operationIdOf: (request: FastifyRequest) => OperationId | undefined,
): void {
  const afterHandler = new WeakMap<FastifyRequest, Fault>();

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const operationId = operationIdOf(request);
    if (operationId === undefined) return;
    const fault = faults.take(operationId);
    if (!fault) return;
    request.log.info({ operationId, fault }, 'sandbox: injecting fault');
    const latency = latencyOf(fault);
    if (latency > 0) await sleep(latency);
    if (fault.afterHandler) {
      afterHandler.set(request, fault);
      return;
    }
    if (fault.status !== undefined) {
      reply.code(fault.status).header(FAULT_HEADER, 'status').send(errorBody(genericMessage(fault.status)));
      return reply;
    }
    if (fault.drop) {
      reply.hijack();
      destroyConnection(request);
      return reply;
    }
    if (fault.malformed) {
      reply.code(200).header(FAULT_HEADER, 'malformed').type('application/json; charset=utf-8').send(MALFORMED_BODY);
      return reply;
    }
  });

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const fault = afterHandler.get(request);
    if (!fault) return payload;
    afterHandler.delete(request);
    if (fault.drop) {
      destroyConnection(request);
      return payload;
    }
    reply.code(200).header(FAULT_HEADER, 'malformed-after-handler').type('application/json; charset=utf-8');
    return MALFORMED_BODY;
  });
}
