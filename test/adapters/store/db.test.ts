/**
 * SQLite rows: db.ts builds row objects from better-sqlite3's raw (array) rows; they must be
 * the very objects better-sqlite3 would make (same keys, same order, same values).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../../src/adapters/store/store.js';

const dir = mkdtempSync(join(tmpdir(), 'store-rows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite rows', () => {
  it('are the objects better-sqlite3 would make', async () => {
    const file = join(dir, 'rows.db');
    const store = await Store.open(`sqlite:${file}`);
    await store.upsertProfile({ user_id: 'usr_1', first_name: 'A', last_name: null, full_name: 'A' }, 42);
    const viaStore = await store.getProfile('usr_1');
    await store.close();
    const plain = new Database(file).prepare('select * from "profiles" where "user_id" = ?').get('usr_1');
    expect(viaStore).toStrictEqual(plain);
    expect(Object.keys(viaStore!)).toEqual(Object.keys(plain as object));
  });
});
