/**
 * In-memory rate limits with the semantics @fastify/rate-limit's local store had here: a
 * fixed window per key that opens with the key's first request and lasts `windowMs`; past
 * `max` requests in it, the answer is 429 until it ends. Counted per instance.
 *
 * Why not the plugin: it ran as an async hook with a promise per request, a key generator,
 * an async `max` callback and an LRU write on every hit (see bench/notes.md). This is a Map lookup and an increment, called from the connector's own
 * onRequest hook.
 */
import { isIPv6 } from 'node:net';

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

/**
 * The bucket of a client address: IPv4 as written, an IPv4-mapped IPv6 address as its IPv4,
 * any other IPv6 address by its /64 network (one host is given a whole /64, so counting
 * single addresses would let it rotate through billions of buckets).
 */
export function addressBucket(ip: string): string {
  if (!isIPv6(ip)) return ip.toLowerCase();
  const groups = expandIPv6(ip);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (zone dropped, embedded IPv4 read). */
function expandIPv6(ip: string): number[] {
  let text = ip.split('%')[0]!.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}
