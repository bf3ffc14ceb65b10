/** The store's versioned cache (behind the ledger page cache): a value answers only for its version. */
import { describe, expect, it } from 'vitest';
import { VersionedCache } from '../../../src/adapters/store/versioned-cache.js';

describe('VersionedCache', () => {
  it('answers only for the version a value was read at, and stays within its weight', () => {
    const cache = new VersionedCache<string>(12, (value) => value.length);
    cache.set('k1', 1, 'one');
    expect(cache.get('k1', 1)).toBe('one');
    expect(cache.get('k1', 2)).toBeUndefined();
    expect(cache.get('k1', 1)).toBeUndefined(); // a stale value is dropped, not kept
    for (const key of ['k1', 'k2', 'k3', 'k4']) cache.set(key, 2, 'abc');
    cache.get('k1', 2); // k1 used last: k2 is now the least recently used
    cache.set('k5', 2, 'abc');
    expect(cache.get('k2', 2)).toBeUndefined();
    expect(cache.get('k1', 2)).toBe('abc');
    cache.set('big', 2, 'abcd'); // over a quarter of the weight: not kept
    expect(cache.get('big', 2)).toBeUndefined();
  });
});
