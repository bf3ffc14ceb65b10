/**
 * In-memory rate limits with the semantics @fastify/rate-limit's local store had here: a
 * fixed window per key that opens with the key's first request and lasts `windowMs`; past
 * `max` requests in it, the answer is 429 until it ends. Counted per instance.
 *
 * Why not the plugin: it ran as an async hook with a promise per request, a key generator,
 * an async `max` callback and an LRU write on every hit, about 10 µs of a ~140 µs cached
 * /accounts call. This is a Map lookup and an increment, called from the connector's own
 * onRequest hook.
 */
export interface Verdict {
  allowed: boolean;
  /** Seconds until the key's window ends (at least 1): Retry-After on a 429. */
  retryAfterSeconds: number;
}

interface Window {
  count: number;
  startedAt: number;
}

export class RateLimiter {
  private readonly windows = new Map<string, Window>();
  private nextSweepAt: number;

  constructor(
    private readonly windowMs: number,
    /** At most this many keys; past it the oldest is forgotten (as the plugin's 10,000-entry LRU did). */
    private readonly maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.nextSweepAt = this.now() + windowMs;
  }

  /** Counts one request of `key` against `max` per window. */
  hit(key: string, max: number): Verdict {
    const now = this.now();
    if (now >= this.nextSweepAt) this.sweep(now);
    let window = this.windows.get(key);
    if (window === undefined) {
      if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
      window = { count: 0, startedAt: now };
      this.windows.set(key, window);
    } else if (window.startedAt + this.windowMs <= now) {
      window.count = 0;
      window.startedAt = now;
    }
    window.count += 1;
    if (window.count <= max) return ALLOWED;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((window.startedAt + this.windowMs - now) / 1000)) };
  }

  /** How many keys are counted (tests). */
  get size(): number {
    return this.windows.size;
  }

  /** Forgets the keys whose window has ended, once per window, so idle keys do not pile up. */
  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.startedAt + this.windowMs <= now) this.windows.delete(key);
    this.nextSweepAt = now + this.windowMs;
  }
}

const ALLOWED: Verdict = Object.freeze({ allowed: true, retryAfterSeconds: 0 });
