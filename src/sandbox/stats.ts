/**
 * Counts the calls the sandbox receives, per operationId and in total: every request
 * that reached an operation's route counts, whatever its outcome (401, validation error,
 * injected fault included). Tests use it to assert how many Verify calls a Kasisto
 * conversation makes. The control endpoint's own routes and unknown URLs do not count.
 */
import { OPERATION_IDS } from './operations.js';
import type { OperationId } from './types.js';

export interface CallStatsSnapshot {
  total: number;
  calls: Record<OperationId, number>;
  /** Client connections open now, and the most open at once since the last reset (keep-alive reuse shows as few). */
  sockets: { open: number; max: number };
}

export class CallStats {
  /** Calls per operationId (0 for an operation never called). */
  readonly calls: Record<OperationId, number>;
  private count = 0;
  private openSockets = 0;
  private maxSockets = 0;

  constructor() {
    this.calls = Object.fromEntries(OPERATION_IDS.map((id) => [id, 0])) as Record<OperationId, number>;
  }

  /** All calls to any operation. */
  get total(): number {
    return this.count;
  }

  record(operationId: OperationId): void {
    this.calls[operationId] += 1;
    this.count += 1;
  }

  socketOpened(): void {
    this.openSockets += 1;
    if (this.openSockets > this.maxSockets) this.maxSockets = this.openSockets;
  }

  socketClosed(): void {
    this.openSockets -= 1;
  }

  reset(): void {
    for (const id of OPERATION_IDS) this.calls[id] = 0;
    this.count = 0;
    this.maxSockets = this.openSockets;
  }

  snapshot(): CallStatsSnapshot {
    return { total: this.count, calls: { ...this.calls }, sockets: { open: this.openSockets, max: this.maxSockets } };
  }
}
