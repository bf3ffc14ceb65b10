/**
 * Settlement state changes across real processes: several `npm run admin -- settlement batch`
 * processes started at once on one PostgreSQL database never batch an obligation twice (the
 * `… where state = 'due'` compare-and-set in one transaction); the two-person rule holds for
 * the shell as for API keys. The CLI's own commands also run on SQLite.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/adapters/store/store.js';
import { ibanCheckDigits } from '../../src/domain/settlement/iban.js';
import { testStores } from '../helpers/postgres.js';
import { ROOT } from '../helpers/processes.js';
import { spawn, type ChildProcess } from 'node:child_process';

const IBAN = `AE${ibanCheckDigits('AE', '0260001015333439101')}0260001015333439101`;
const BASE_ENV = { KASISTO_SECRET: 'settlement-process-secret-0123', CREDENTIALS_KEY: 'cd'.repeat(32), LOG_LEVEL: 'silent' };

async function seedObligations(url: string, count: number): Promise<string[]> {
  const store = await Store.open(url);
  try {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const now = Date.now();
      const id = `mv_proc_${i}_${now}`;
      await store.recordMovement(
        {
          id, user_id: 'usr_proc', grant_id: 'gr_proc', kind: 'payment', idempotency_key: null, fingerprint: `fp_${id}`, source_account_id: 'acct_src',
          source_iban: 'AE070331234567890123456', dest_type: 'payee', dest_id: 'payee_dewa', dest_name: 'DEWA', dest_iban: IBAN, amount_minor: 100 + i,
          currency: 'AED', description: 'Payment', requested_date: null, category: 'bills', status: 'recorded', verify_session_id: 'ses_x', verify_transfer_id: null,
          verify_reference_id: null, pending_json: null, otp_attempts: 0, otp_started_at: null, failure_reason: null, lease_owner: null, lease_until: null,
          created_at: now, updated_at: now, completed_at: null,
        },
        0,
        0,
      );
      await store.updateMovement(id, { status: 'processed', verify_transfer_id: `tr_${i}`, completed_at: now }, now);
      ids.push((await store.settlement.obligationOfMovement(id))!.id);
    }
    return ids;
  } finally {
    await store.close();
  }
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One `npm run admin -- settlement …` as its own process (node --import tsx, explicit environment). */
function admin(databaseUrl: string, args: string[], extra: Record<string, string> = {}): Promise<Exit> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', 'settlement', ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...(process.env['TMPDIR'] ? { TMPDIR: process.env['TMPDIR'] } : {}), ...BASE_ENV, DATABASE_URL: databaseUrl, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => {
    children.delete(child);
    resolve({ code, stdout, stderr });
  }));
}
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

const databases = testStores('settle-proc');

describe.each(databases)('settlement from the shell on $name', ({ name, database }) => {
  it('batches each obligation once however many processes batch at once; the two-person rule holds', async () => {
    const db = await database();
    try {
      const obligations = await seedObligations(db.url, 8);
      // SQLite is one process's database (README): there the processes run one after another
      const racers = name === 'PostgreSQL' ? 4 : 1;
      const results = await Promise.all(Array.from({ length: racers }, () => admin(db.url, ['batch', '--currency', 'AED'])));
      const won = results.filter((r) => r.code === 0);
      expect(won, results.map((r) => r.stderr).join('\n')).toHaveLength(1);
      for (const lost of results.filter((r) => r.code !== 0)) expect(lost.stderr).toMatch(/settlement: (not_due|nothing_to_batch):/);
      const batch = JSON.parse(won[0]!.stdout) as { id: string; obligation_ids: string[]; totals: { amount_minor: number }[] };
      expect(batch.obligation_ids.sort()).toEqual([...obligations].sort());
      expect(batch.totals).toEqual([{ currency: 'AED', count: 8, amount_minor: 8 * 100 + 28 }]);

      const store = await Store.open(db.url);
      try {
        expect(await store.db.selectFrom('batches').select('id').execute()).toHaveLength(1);
        const rows = await store.settlement.listObligations({ limit: 100 });
        expect(rows.every((r) => r.state === 'batched' && r.batch_id === batch.id)).toBe(true);
      } finally {
        await store.close();
      }

      const csv = await admin(db.url, ['csv', '--batch', batch.id]);
      expect(csv.code).toBe(0);
      expect(csv.stdout.trim().split('\r\n')).toHaveLength(9);
      // the same person cannot pay what they batched
      const same = await admin(db.url, ['paid', '--batch', batch.id, '--reference', 'FT1']);
      expect(same.code).toBe(1);
      expect(same.stderr).toMatch(/four_eyes/);
      // with the rule turned off (OPERATOR_FOUR_EYES=false) it can
      const paid = await admin(db.url, ['paid', '--batch', batch.id, '--reference', 'FT1'], { OPERATOR_FOUR_EYES: 'false' });
      expect(paid.code, paid.stderr).toBe(0);
      expect(JSON.parse(paid.stdout)).toMatchObject({ state: 'paid', bank_reference: 'FT1' });
      const listed = await admin(db.url, ['list', '--state', 'paid']);
      expect(listed.stdout.trim().split('\n')).toHaveLength(8);
    } finally {
      await db.drop();
    }
  }, 120_000);
});
