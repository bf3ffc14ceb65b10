/**
 * Opens the store named by DATABASE_URL (SQLite file by default, or PostgreSQL) and runs
 * the one set of migrations both dialects share.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Migration, type MigrationProvider, type SqliteDialectConfig } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

// int8 (timestamps in ms, minor units) fits a JS number well within 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value));

export type Dialect = 'sqlite' | 'postgres';

export function openDatabase(url: string): { db: Kysely<Database>; dialect: Dialect } {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const pool = new pg.Pool({ connectionString: url, max: 10, idleTimeoutMillis: 30_000 });
    // a dropped idle connection must not crash the process; the pool replaces it
    pool.on('error', () => {});
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' };
  }
  const path = url.replace(/^sqlite:/, '');
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SqliteDatabase(path);
  sqlite.pragma('journal_mode = WAL');
  // Owner only, like dev-secrets.json: the file holds IBANs and sealed credentials (SQLite
  // gives the -wal and -shm files the database file's mode).
  if (path !== ':memory:') for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
  sqlite.pragma('synchronous = FULL'); // a movement recorded is a movement on disk
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) }), dialect: 'sqlite' };
}

const STATEMENT_CACHE_ENTRIES = 500;

/**
 * Kysely prepares every query anew (sqlite3_prepare: about 30 µs, as much as running a
 * token lookup). Our queries are a few fixed shapes, so their statements are kept and reused;
 * a statement still busy (an open iterator) is never handed out twice.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    prepare(sqlText: string) {
      const cached = statements.get(sqlText);
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(sqlText);
      if (!cached) {
        if (statements.size >= STATEMENT_CACHE_ENTRIES) statements.delete(statements.keys().next().value!);
        statements.set(sqlText, statement);
      }
      return statement;
    },
    close() {
      statements.clear();
      sqlite.close();
    },
  };
}

const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('bank_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('sealed_credentials', 'text')
        .addColumn('verify_session_id', 'text')
        .addColumn('pending_json', 'text')
        .addColumn('otp_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('otp_started_at', 'bigint')
        .addColumn('accounts_json', 'text')
        .addColumn('accounts_cached_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint', (c) => c.notNull())
        .addColumn('absolute_expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('grants_user').on('grants').column('user_id').execute();
      await db.schema
        .createTable('tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull().references('grants.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retired_at', 'bigint')
        .execute();
      await db.schema.createIndex('tokens_grant').on('tokens').column('grant_id').execute();
      await db.schema
        .createTable('movements')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text')
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('source_account_id', 'text', (c) => c.notNull())
        .addColumn('source_iban', 'text', (c) => c.notNull())
        .addColumn('dest_type', 'text', (c) => c.notNull())
        .addColumn('dest_id', 'text', (c) => c.notNull())
        .addColumn('dest_name', 'text')
        .addColumn('dest_iban', 'text')
        .addColumn('amount_minor', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('requested_date', 'text')
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('verify_session_id', 'text')
        .addColumn('verify_transfer_id', 'text')
        .addColumn('verify_reference_id', 'text')
        .addColumn('pending_json', 'text')
        .addColumn('otp_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('otp_started_at', 'bigint')
        .addColumn('failure_reason', 'text')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('completed_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('movements_idempotency')
        .on('movements')
        .columns(['user_id', 'kind', 'idempotency_key'])
        .unique()
        .execute();
      await db.schema.createIndex('movements_user_created').on('movements').columns(['user_id', 'created_at']).execute();
      await db.schema.createIndex('movements_fingerprint').on('movements').columns(['fingerprint', 'created_at']).execute();
      await db.schema.createIndex('movements_status').on('movements').column('status').execute();
      await db.schema
        .createTable('payees')
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('payee_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('aliases_json', 'text', (c) => c.notNull())
        .addColumn('iban', 'text')
        .addColumn('category', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('payees_pk', ['user_id', 'payee_id'])
        .execute();
      await db.schema
        .createTable('profiles')
        .addColumn('user_id', 'text', (c) => c.primaryKey())
        .addColumn('first_name', 'text')
        .addColumn('last_name', 'text')
        .addColumn('full_name', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
};

class InCodeMigrations implements MigrationProvider {
  async getMigrations() {
    return migrations;
  }
}

/** Runs pending migrations; safe to call from several instances at once on PostgreSQL. */
export async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  const run = async (target: Kysely<any>) => {
    const { error } = await new Migrator({ db: target, provider: new InCodeMigrations() }).migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
  };
  if (dialect === 'postgres') {
    // Kysely's migrator locks too, but only once its own tables exist; an advisory lock
    // keeps two instances starting together from racing to create them.
    await db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(8642001)`.execute(conn);
      try {
        await run(conn);
      } finally {
        await sql`select pg_advisory_unlock(8642001)`.execute(conn);
      }
    });
    return;
  }
  await run(db);
}
