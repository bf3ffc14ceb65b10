/**
 * The store keeps ledger pages per (user, criteria) with the user's ledger version:
 * a page must never outlive a change to the movements it was made from, whoever makes
 * the change: this instance, another instance on the same database, or SQL run by hand
 * (database triggers bump the version). On SQLite and, when available, PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestConnector, type TestConnector } from '../../helpers/connector.js';
import { testStores } from '../../helpers/postgres.js';
import { kasistoResponseCheck } from '../../helpers/kasisto-contract.js';

const checked = kasistoResponseCheck();
const stores = testStores('ledger-cache');

type Entry = { transaction_id: string; description: string; amount: number; account_id: string };

describe.each(stores)('ledger answers on $name', ({ database }) => {
  let a: TestConnector;
  let b: TestConnector;
  let drop: (() => Promise<void>) | undefined;
  let who: { userId: string; token: string; aed: string; usd: string };

  beforeAll(async () => {
    const db = await database();
    drop = db.drop;
    // two instances on one database (each with its own embedded sandbox: b only writes rows)
    a = await startTestConnector({ DATABASE_URL: db.url });
    b = await startTestConnector({ DATABASE_URL: db.url });
    const { userId, token } = await a.signIn('test');
    const accounts = (await a.call('accounts', { user_id: userId }, { token })).json() as { account_id: string; currency_code: string }[];
    who = { userId, token, aed: accounts.find((x) => x.currency_code === 'AED')!.account_id, usd: accounts.find((x) => x.currency_code === 'USD')!.account_id };
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await drop?.();
  });

  const transactions = async (body: Record<string, unknown> = {}) => {
    const res = await a.call('transactions', { user_id: who.userId, ...body }, { token: who.token });
    expect(res.statusCode, res.body).toBe(200);
    checked('transactions', res);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    return { body: res.body, entries: res.json() as Entry[] };
  };

  it('answers a repeated question from the kept page, byte for byte, without reading the rows', async () => {
    const transfer = await a.call('transfer', { user_id: who.userId, source_account_id: who.aed, dest_account_id: who.usd, amount: 1.25 }, { token: who.token });
    expect(transfer.statusCode, transfer.body).toBe(200);
    const first = await transactions();
    expect(first.entries.length).toBe(2);
    // the store's own row read, behind its page cache
    const read = vi.spyOn(a.ctx.store as unknown as { readLedger: () => Promise<unknown> }, 'readLedger');
    try {
      const again = await transactions();
      expect(again.body).toBe(first.body);
      expect(read).not.toHaveBeenCalled();
      // other criteria are another answer
      const one = await transactions({ account_ids: [who.usd] });
      expect(one.entries.map((e) => e.account_id)).toEqual([who.usd]);
      expect(read).toHaveBeenCalledTimes(1);
    } finally {
      read.mockRestore();
    }
  });

  it("shows this instance's new movement at once", async () => {
    const before = await transactions();
    const transfer = await a.call('transfer', { user_id: who.userId, source_account_id: who.usd, dest_account_id: who.aed, amount: 0.5 }, { token: who.token });
    expect(transfer.statusCode, transfer.body).toBe(200);
    const after = await transactions();
    expect(after.entries.length).toBe(before.entries.length + 2);
    expect(after.entries[0]!.amount).toBe(0.5);
  });

  it("shows another instance's change to a movement at once", async () => {
    const before = await transactions();
    const id = before.entries[0]!.transaction_id.replace(/-(debit|credit)$/, '');
    await b.ctx.store.updateMovement(id, { description: 'Changed on the other instance' }, Date.now());
    const after = await transactions();
    expect(after.entries.find((e) => e.transaction_id === `${id}-debit`)!.description).toBe('Changed on the other instance');
  });

  it("shows another instance's new movement at once", async () => {
    const before = await transactions();
    const [latest] = await b.ctx.store.db.selectFrom('movements').selectAll().where('user_id', '=', who.userId).orderBy('created_at', 'desc').limit(1).execute();
    const { movement } = await b.ctx.store.recordMovement({ ...latest!, id: 'mv_other_instance_0001', fingerprint: 'other-instance', idempotency_key: null, created_at: Date.now() + 1000, updated_at: Date.now() + 1000 }, 0, 0);
    await b.ctx.store.updateMovement(movement.id, { status: 'processed' }, Date.now());
    const after = await transactions();
    expect(after.entries.length).toBe(before.entries.length + 2);
    expect(after.entries[0]!.transaction_id).toBe('mv_other_instance_0001-debit');
  });

  it('shows changes made by SQL outside the connector', async () => {
    const before = await transactions();
    const id = before.entries[0]!.transaction_id.replace(/-(debit|credit)$/, '');
    await b.ctx.store.db.updateTable('movements').set({ status: 'cancelled' }).where('id', '=', id).execute();
    const after = await transactions();
    expect(after.entries.some((e) => e.transaction_id.startsWith(`${id}-`))).toBe(false);
    const next = after.entries[0]!.transaction_id.replace(/-(debit|credit)$/, '');
    await b.ctx.store.db.deleteFrom('movements').where('id', '=', next).execute();
    const deleted = await transactions();
    expect(deleted.entries.some((e) => e.transaction_id.startsWith(`${next}-`))).toBe(false);
    expect(deleted.entries.length).toBe(after.entries.length - 2);
  });
});
