/**
 * The in-process rate limiter (@fastify/rate-limit's window semantics, which it replaced)
 * and the bucket a client address is counted in.
 */
import { describe, expect, it } from 'vitest';
import { addressBucket, RateLimiter } from '../../src/http/rate-limit.js';

describe('RateLimiter', () => {
  it('counts a fixed window per key from its first request, then opens a new one', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(60_000, 10_000, () => now);
    for (let i = 0; i < 3; i++) expect(limiter.hit('token:a', 3).allowed).toBe(true);
    const refused = limiter.hit('token:a', 3);
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect(limiter.hit('token:b', 3).allowed).toBe(true); // its own budget
    now += 59_001;
    expect(limiter.hit('token:a', 3)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 999; // the window has ended
    expect(limiter.hit('token:a', 3).allowed).toBe(true);
  });

  it('forgets ended windows and keeps at most maxKeys keys', () => {
    let now = 0;
    const limiter = new RateLimiter(1_000, 3, () => now);
    for (const key of ['a', 'b', 'c', 'd']) limiter.hit(key, 1);
    expect(limiter.size).toBe(3); // 'a', the oldest, went
    expect(limiter.hit('a', 1).allowed).toBe(true);
    now = 5_000;
    limiter.hit('e', 1); // a sweep runs once per window
    expect(limiter.size).toBe(1);
  });
});

describe('addressBucket', () => {
  it('keeps an IPv4 address as written', () => {
    expect(addressBucket('203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('127.0.0.1')).not.toBe(addressBucket('127.0.0.2'));
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address, however it is written', () => {
    expect(addressBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('::FFFF:203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucket('::ffff:cb00:7107')).toBe('203.0.113.7'); // the same address in hex groups
    expect(addressBucket('0:0:0:0:0:ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts any other IPv6 address by its /64 network', () => {
    const bucket = addressBucket('2001:db8:85a3:12::1');
    expect(bucket).toBe('2001:db8:85a3:12::/64');
    // one host rotating through its /64 stays in one bucket…
    expect(addressBucket('2001:db8:85a3:12:ffff:ffff:ffff:fffe')).toBe(bucket);
    expect(addressBucket('2001:0DB8:85A3:0012:0000:0000:0000:0001')).toBe(bucket);
    // …the next network is another bucket
    expect(addressBucket('2001:db8:85a3:13::1')).toBe('2001:db8:85a3:13::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    // an IPv6 address with an embedded IPv4 tail that is not IPv4-mapped is still IPv6
    expect(addressBucket('64:ff9b::203.0.113.7')).toBe('64:ff9b:0:0::/64');
  });

  it('drops the zone id of a link-local address', () => {
    expect(addressBucket('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressBucket('fe80::2%lo')).toBe(addressBucket('fe80::1'));
  });
});
