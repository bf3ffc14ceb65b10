/**
 * Admission to the Verify connection pool. The pool (undici) would queue calls without a
 * bound and start their clock while they wait, so a load spike made our own queue look like
 * Verify timeouts and opened the circuit breaker. This gate holds the queue instead:
 *
 * - at most `slots` attempts in flight (the pool size: undici never queues behind it); the
 *   waiting calls are served earliest deadline first;
 * - a call that cannot start in time to be served within its request's deadline (estimated
 *   from the calls queued ahead and the recent attempt duration, with headroom) is refused at
 *   once, and a queued call whose deadline comes too close leaves the queue, both as `overloaded`:
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
  deadline: number;
  resolve: (release: () => void) => void;
  reject: (error: GateRefused) => void;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

const EWMA_RISE = 0.3;
const EWMA_FALL = 0.05;
/**
 * A call is admitted only with room for this many expected service times before its
 * deadline: Verify's answers vary, and an attempt cut short by the budget is wasted work.
 */
const HEADROOM = 2;

export class VerifyGate {
  readonly size: number;
  private readonly perKeyMax: number;
  private readonly now: () => number;
  private inFlight = 0;
  private shedCount = 0;
  private serviceMs: number;
  /**
   * Waiting calls, a binary min-heap on the deadline: the call of a request that is further
   * along (a sign-in's login after its createSession) goes before a new request's first
   * call, so work already done is not wasted by shedding its second half.
   */
  private readonly heap: Waiter[] = [];
  /** Waiters still queued (expired ones stay in the heap until they surface). */
  private waiting = 0;
  private readonly perKey = new Map<string, number>();

  constructor(options: GateOptions) {
    if (!Number.isInteger(options.slots) || options.slots < 1) throw new RangeError('slots must be an integer ≥ 1');
    if (!Number.isInteger(options.perKeyMax) || options.perKeyMax < 1) throw new RangeError('perKeyMax must be an integer ≥ 1');
    this.size = options.slots;
    this.perKeyMax = options.perKeyMax;
    this.serviceMs = options.initialServiceMs ?? 500;
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
    // quick to rise, slow to fall: under-estimating admits calls that then time out
    this.serviceMs += (durationMs > this.serviceMs ? EWMA_RISE : EWMA_FALL) * (durationMs - this.serviceMs);
  }

  /**
   * A slot for one attempt, to be given back with the returned function (exactly once).
   * Rejects with GateRefused when the call cannot be served by `deadline`.
   */
  acquire(key: string | undefined, deadline: number, options: { strict?: boolean } = {}): Promise<() => void> {
    if (key !== undefined && (this.perKey.get(key) ?? 0) >= this.perKeyMax) return this.refuse('customer_limit');
    const now = this.now();
    // strict (the request already lost time in this queue): even a free connection cannot
    // help a call whose request has no time left for an answer
    if (options.strict && now + HEADROOM * this.serviceMs > deadline) return this.refuse('deadline');
    if (this.inFlight < this.size && this.waiting === 0) {
      this.inFlight += 1;
      if (key !== undefined) this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
      return Promise.resolve(this.releaser(key));
    }
    // the calls ahead (earlier deadlines) leave at about `size` per service time; then this
    // one needs its headroom
    const expectedStart = now + ((this.aheadOf(deadline) + 1) / this.size) * this.serviceMs;
    if (expectedStart + HEADROOM * this.serviceMs > deadline) return this.refuse('deadline');
    if (key !== undefined) this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { key, deadline, resolve, reject, timer: undefined, done: false };
      // leave the queue while an answer within the deadline is still likely
      waiter.timer = setTimeout(() => this.expire(waiter), Math.max(0, deadline - HEADROOM * this.serviceMs - now));
      this.push(waiter);
      this.waiting += 1;
    });
  }

  /** Waiting calls served before one with this deadline (a scan: the queue is short-lived and bounded by the budget). */
  private aheadOf(deadline: number): number {
    let n = 0;
    for (const waiter of this.heap) if (!waiter.done && waiter.deadline <= deadline) n += 1;
    return n;
  }

  /** Whether a call now would wait (no free connection, or others already waiting). */
  get busy(): boolean {
    return this.inFlight >= this.size || this.waiting > 0;
  }

  private refuse(reason: Refusal): Promise<never> {
    this.shedCount += 1;
    return Promise.reject(new GateRefused(reason));
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
    // stays in the heap, skipped when it surfaces
    waiter.reject(new GateRefused('deadline'));
    if (this.waiting === 0) this.heap.length = 0;
  }

  private next(): void {
    while (this.inFlight < this.size && this.heap.length > 0) {
      const waiter = this.pop();
      if (waiter.done) continue;
      waiter.done = true;
      this.waiting -= 1;
      clearTimeout(waiter.timer);
      // Verify may have slowed since it queued: no slot for a call that cannot be answered in time
      if (this.now() + HEADROOM * this.serviceMs > waiter.deadline) {
        this.forget(waiter.key);
        this.shedCount += 1;
        waiter.reject(new GateRefused('deadline'));
        continue;
      }
      this.inFlight += 1; // its key was counted when it queued
      waiter.resolve(this.releaser(waiter.key));
    }
  }

  private push(waiter: Waiter): void {
    const heap = this.heap;
    heap.push(waiter);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.deadline <= waiter.deadline) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = waiter;
  }

  private pop(): Waiter {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && heap[right]!.deadline < heap[left]!.deadline ? right : left;
        if (heap[child]!.deadline >= last.deadline) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
