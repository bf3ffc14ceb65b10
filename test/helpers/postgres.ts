/**
 * PostgreSQL for tests: `.ci/run` (scripts/ci-postgres.sh) starts a cluster on loopback and
 * passes its URL as TEST_DATABASE_URL. Each suite gets a database of its own.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The test cluster's URL, from the environment or the file scripts/ci-postgres.sh writes. */
export function testPostgresUrl(): string | undefined {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  return existsSync('.ci/postgres-url') ? readFileSync('.ci/postgres-url', 'utf8').trim() || undefined : undefined;
}

/** In CI the PostgreSQL suites must run, not skip. */
export const postgresRequired = process.env.CI === 'true';

export async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = testPostgresUrl();
  if (!base) throw new Error('no test PostgreSQL: run scripts/ci-postgres.sh or set TEST_DATABASE_URL');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/** A database for a suite: its URL, and how to drop it afterwards. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * The stores a store-facing suite runs on: a fresh SQLite file (in its own temp folder, named
 * after `prefix`), and PostgreSQL when a test cluster is reachable (always in CI).
 */
export function testStores(prefix: string): { name: 'SQLite' | 'PostgreSQL'; database: () => Promise<TestDatabase> }[] {
  const sqlite = async (): Promise<TestDatabase> => {
    const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    return { url: `sqlite:${join(dir, 'connector.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  };
  return [{ name: 'SQLite' as const, database: sqlite }, ...(testPostgresUrl() || postgresRequired ? [{ name: 'PostgreSQL' as const, database: createDatabase }] : [])];
}
