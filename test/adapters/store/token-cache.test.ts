/**
 * The store's short cache of token → sign-in (TOKEN_CACHE_MS): writes made through the same
 * Store are seen at once; another instance's writes at most TOKEN_CACHE_MS late; a sign-in
 * still waiting for its OTP is never cached; callers get copies. Two Stores on one database
 * stand for two instances sharing it: on SQLite and, when available, PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../../src/adapters/store/store.js';
import type { NewGrant } from '../../../src/adapters/store/schema.js';
import { testStores } from '../../helpers/postgres.js';

const TTL = 300;
const stores = testStores('store-cache');
let drop: (() => Promise<void>) | undefined;
let a: Store; // this instance, caching
let b: Store; // another instance, writing
let seq = 0;

async function newGrant(status: NewGrant['status'] = 'active'): Promise<{ id: string; hash: string }> {
  seq += 1;
  const now = Date.now();
  const id = `gr_cache_${seq}`;
  const hash = `hash_${seq}`;
  await b.createGrant(
    {
      id,
      user_id: `usr_cache_${seq}`,
      bank_id: 'test_bank',
      status,
      sealed_credentials: 'sealed',
      verify_session_id: 'ses_000000000000',
      pending_json: null,
      otp_attempts: 0,
      otp_started_at: null,
      accounts_json: '[]',
      accounts_cached_at: now,
      created_at: now,
      last_used_at: now,
      absolute_expires_at: now + 3_600_000,
    },
    hash,
  );
  return { id, hash };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(stores)('token cache in the store on $name', ({ database }) => {
  beforeAll(async () => {
    const db = await database();
    drop = db.drop;
    b = await Store.open(db.url);
    a = await Store.open(db.url, { tokenCacheMs: TTL });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await drop?.();
  });

  it('sees its own writes at once: update, accounts invalidation, rotation, end', async () => {
    const g = await newGrant();
    expect((await a.findToken(g.hash))?.grant.last_used_at).toBeGreaterThan(0);
    await a.updateGrant(g.id, { last_used_at: 42 });
    expect((await a.findToken(g.hash))?.grant.last_used_at).toBe(42);
    const userId = (await a.findToken(g.hash))!.grant.user_id;
    await a.invalidateAccounts(userId);
    const after = (await a.findToken(g.hash))!.grant;
    expect(after.accounts_cached_at).toBeNull();
    expect(after.accounts_json).toBe('[]'); // identities stay, only the balances went stale
    await a.rotateToken(g.id, g.hash, `${g.hash}_next`, Date.now());
    expect((await a.findToken(g.hash))?.retiredAt).not.toBeNull();
    await a.endGrant(g.id);
    expect(await a.findToken(g.hash)).toBeUndefined();
  });

  it("sees another instance's revocation at most TOKEN_CACHE_MS late", async () => {
    const g = await newGrant();
    expect(await a.findToken(g.hash)).toBeDefined();
    await b.endGrant(g.id);
    // the trade-off: within the TTL this instance may still accept the token…
    const soon = await a.findToken(g.hash);
    expect(soon === undefined || soon.grant.status === 'active').toBe(true);
    // …never after it
    await sleep(TTL + 100);
    expect(await a.findToken(g.hash)).toBeUndefined();
  });

  it('never caches a sign-in that waits for its OTP', async () => {
    const g = await newGrant('pending_otp');
    expect((await a.findToken(g.hash))?.grant.status).toBe('pending_otp');
    await b.updateGrant(g.id, { status: 'active' });
    expect((await a.findToken(g.hash))?.grant.status).toBe('active');
  });

  it('hands out copies: a caller changing its grant does not change the cache', async () => {
    const g = await newGrant();
    const first = await a.findToken(g.hash);
    first!.grant.status = 'ended';
    first!.grant.accounts_json = 'changed';
    const second = await a.findToken(g.hash);
    expect(second?.grant.status).toBe('active');
    expect(second?.grant.accounts_json).toBe('[]');
  });

  it('does not cache at all with TOKEN_CACHE_MS=0', async () => {
    const g = await newGrant();
    expect(await b.findToken(g.hash)).toBeDefined();
    await a.endGrant(g.id);
    expect(await b.findToken(g.hash)).toBeUndefined();
  });
});
