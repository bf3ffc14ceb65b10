/**
 * Admission to the Verify connection pool. The pool (undici) would queue calls without a
 * bound and start their clock while they wait, so a load spike made our own queue look like
 * Verify timeouts and opened the circuit breaker. This gate holds the queue instead:
 *
 * - at most `slots` attempts in flight (the pool size: undici never queues behind it);
 * - a call that cannot start in time to be served within its request's deadline (estimated
 *   from the calls queued ahead and the recent attempt duration) is refused at once, and a
 *   queued call whose deadline comes too close leaves the queue, both as `overloaded`:
 *   nothing was sent, so it is neither a Verify failure nor a timeout;
 * - fairness: one customer (the request's `verifyKey`) has at most `perKeyMax` calls in
 *   flight or queued, so a customer retrying in a loop cannot take the others' share.
 *   Calls without a key (sign-in before a token exists, housekeeping) are not capped here
 *   (a sign-in is sequential; the per-address rate limit bounds floods).
 *
 * Time is performance.now(), as the request deadlines are.
 */
export interface GateOptions {
  slots: number;
  perKeyMax: number;
  /** The service time assumed before any attempt was observed, ms. */
  initialServiceMs?: number;
  now?: () => number;
}

export interface GateStats {
  size: number;
  inFlight: number;
  queued: number;
  /** Calls refused (estimate, deadline reached in the queue, per-customer cap) since start. */
  shed: number;
}

export type Refusal = 'deadline' | 'customer_limit';

export class GateRefused extends Error {
  override name = 'GateRefused';
  constructor(readonly reason: Refusal) {
    super(reason === 'deadline' ? 'the Verify pool cannot serve the call within the request budget' : 'too many Verify calls for this customer');
  }
}

interface Waiter {
  key: string | undefined;
  resolve: (release: () => void) => void;
  reject: (error: GateRefused) => void;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

const EWMA_WEIGHT = 0.1;

export class VerifyGate {
  readonly size: number;
  private readonly perKeyMax: number;
  private readonly now: () => number;
  private inFlight = 0;
  private shedCount = 0;
  private serviceMs: number;
  private readonly queue: Waiter[] = [];
  private head = 0;
  /** Waiters still queued (expired ones stay in the array until skipped). */
  private waiting = 0;
  private readonly perKey = new Map<string, number>();

  constructor(options: GateOptions) {
    if (!Number.isInteger(options.slots) || options.slots < 1) throw new RangeError('slots must be an integer ≥ 1');
    if (!Number.isInteger(options.perKeyMax) || options.perKeyMax < 1) throw new RangeError('perKeyMax must be an integer ≥ 1');
    this.size = options.slots;
    this.perKeyMax = options.perKeyMax;
    this.serviceMs = options.initialServiceMs ?? 100;
    this.now = options.now ?? (() => performance.now());
  }

  get stats(): GateStats {
    return { size: this.size, inFlight: this.inFlight, queued: this.waiting, shed: this.shedCount };
  }

  /** The recent duration of one attempt (moving average), ms. */
  get expectedServiceMs(): number {
    return this.serviceMs;
  }

  /** Feeds the duration of a finished attempt into the estimate. */
  observe(durationMs: number): void {
    this.serviceMs += EWMA_WEIGHT * (durationMs - this.serviceMs);
  }

  /**
   * A slot for one attempt, to be given back with the returned function (exactly once).
   * Rejects with GateRefused when the call cannot be served by `deadline`.
   */
  acquire(key: string | undefined, deadline: number): Promise<() => void> {
    if (key !== undefined && (this.perKey.get(key) ?? 0) >= this.perKeyMax) return this.refuse('customer_limit');
    const queued = this.waiting;
    if (this.inFlight < this.size && queued === 0) {
      this.take(key);
      return Promise.resolve(this.releaser(key));
    }
    // the calls ahead leave at about `size` per service time; then this one is served
    const now = this.now();
    const expectedStart = now + ((queued + 1) / this.size) * this.serviceMs;
    if (expectedStart + this.serviceMs > deadline) return this.refuse('deadline');
    if (key !== undefined) this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { key, resolve, reject, timer: undefined, done: false };
      // leave the queue while an answer within the deadline is still likely
      waiter.timer = setTimeout(() => this.expire(waiter), Math.max(0, deadline - this.serviceMs - now));
      this.queue.push(waiter);
      this.waiting += 1;
    });
  }

  private refuse(reason: Refusal): Promise<never> {
    this.shedCount += 1;
    return Promise.reject(new GateRefused(reason));
  }

  private take(key: string | undefined): void {
    this.inFlight += 1;
    if (key !== undefined) this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
  }

  private forget(key: string | undefined): void {
    if (key === undefined) return;
    const n = (this.perKey.get(key) ?? 1) - 1;
    if (n <= 0) this.perKey.delete(key);
    else this.perKey.set(key, n);
  }

  private releaser(key: string | undefined): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      this.forget(key);
      this.next();
    };
  }

  private expire(waiter: Waiter): void {
    if (waiter.done) return;
    waiter.done = true;
    this.waiting -= 1;
    this.forget(waiter.key);
    this.shedCount += 1;
    // left in the array, skipped (done) when its turn comes: O(1) here
    waiter.reject(new GateRefused('deadline'));
    this.compact();
  }

  private next(): void {
    while (this.inFlight < this.size && this.head < this.queue.length) {
      const waiter = this.queue[this.head]!;
      this.queue[this.head] = undefined as unknown as Waiter;
      this.head += 1;
      if (waiter.done) continue;
      waiter.done = true;
      this.waiting -= 1;
      clearTimeout(waiter.timer);
      this.inFlight += 1; // its key was counted when it queued
      waiter.resolve(this.releaser(waiter.key));
    }
    this.compact();
  }

  /** Drops the consumed head of the queue array now and then, and expired waiters at the head. */
  private compact(): void {
    while (this.head < this.queue.length && this.queue[this.head]?.done) this.head += 1;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
