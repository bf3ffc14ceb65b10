/**
 * Opens the store named by DATABASE_URL (SQLite file by default, or PostgreSQL) and runs
 * the one set of migrations both dialects share.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type Migration, type MigrationProvider, type SqliteDialectConfig, type SqliteStatement } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

// int8 (timestamps in ms, minor units) fits a JS number well within 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value));

export type Dialect = 'sqlite' | 'postgres';

/** `poolSize`: PostgreSQL connections of this instance (DATABASE_POOL_SIZE); SQLite has one. */
export function openDatabase(url: string, poolSize = 10): { db: Kysely<Database>; dialect: Dialect } {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const pool = new pg.Pool({ connectionString: url, max: poolSize, idleTimeoutMillis: 30_000 });
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
 * Kysely prepares every query anew (sqlite3_prepare costs as much as running a token
 * lookup). Our queries are a few fixed shapes, so their statements are kept and reused;
 * a statement still busy (an open iterator) is never handed out twice.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const statements = new Map<string, KyselyStatement>();
  return {
    prepare(sqlText: string) {
      const cached = statements.get(sqlText);
      if (cached && !cached.busy) return cached;
      const statement = withPlainRows(sqlite.prepare(sqlText));
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

type KyselyStatement = SqliteStatement & { readonly busy: boolean };

/**
 * Rows as plain objects built here from better-sqlite3's raw (array) rows: better-sqlite3
 * makes each row object in C++, property by property, which costs more than reading the row
 * (measured in bench/notes.md). Same objects
 * (own enumerable properties in column order, a later duplicate name wins).
 */
function withPlainRows(statement: SqliteDatabase.Statement): KyselyStatement {
  if (!statement.reader) return statement;
  const columns = statement.columns().map((column) => column.name);
  // a column named __proto__ would set the prototype here: leave such a statement as it is
  if (columns.includes('__proto__')) return statement;
  statement.raw(true);
  const toObject = (row: unknown[]): Record<string, unknown> => {
    const object: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i++) object[columns[i]!] = row[i];
    return object;
  };
  return {
    reader: true,
    get busy() {
      return statement.busy;
    },
    all(parameters: ReadonlyArray<unknown>) {
      const rows = statement.all(parameters) as unknown[];
      for (let i = 0; i < rows.length; i++) rows[i] = toObject(rows[i] as unknown[]);
      return rows;
    },
    run: (parameters: ReadonlyArray<unknown>) => statement.run(parameters),
    *iterate(parameters: ReadonlyArray<unknown>) {
      for (const row of statement.iterate(parameters)) yield toObject(row as unknown[]);
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

// Kept outside the table above for readability; '0002' sorts after '0001_initial'.
migrations['0002_ledger_versions'] = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('ledger_versions')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('version', 'bigint', (c) => c.notNull())
      .execute();
    if (db.getExecutor().adapter instanceof PostgresAdapter) {
      await sql`
        create function connector_bump_ledger_version() returns trigger language plpgsql as $$
        begin
          if tg_op <> 'INSERT' then
            insert into ledger_versions (user_id, version) values (old.user_id, 1)
              on conflict (user_id) do update set version = ledger_versions.version + 1;
          end if;
          if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.user_id is distinct from old.user_id) then
            insert into ledger_versions (user_id, version) values (new.user_id, 1)
              on conflict (user_id) do update set version = ledger_versions.version + 1;
          end if;
          return null;
        end $$`.execute(db);
      await sql`create trigger movements_ledger_version after insert or update or delete on movements for each row execute function connector_bump_ledger_version()`.execute(db);
      return;
    }
    const bump = (who: 'new' | 'old') => `insert into ledger_versions (user_id, version) values (${who}.user_id, 1) on conflict (user_id) do update set version = version + 1;`;
    await sql.raw(`create trigger movements_ledger_version_insert after insert on movements begin ${bump('new')} end`).execute(db);
    await sql
      .raw(
        `create trigger movements_ledger_version_update after update on movements begin ${bump('old')}
          insert into ledger_versions (user_id, version) select new.user_id, 1 where new.user_id is not old.user_id on conflict (user_id) do update set version = version + 1; end`,
      )
      .execute(db);
    await sql.raw(`create trigger movements_ledger_version_delete after delete on movements begin ${bump('old')} end`).execute(db);
  },
};

// movements.version was written on every update and never read.
migrations['0003_drop_movement_version'] = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('movements').dropColumn('version').execute();
  },
};

// Per-customer guards (failed sign-ins and OTPs, lockout, sign-in attempts per window) and
// named leases (one answer to a customer's pending verification at a time, across instances).
migrations['0004_customer_guards_and_leases'] = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('customer_guards')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_failure_at', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('locked_until', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('window_started_at', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('until', 'bigint', (c) => c.notNull())
      .execute();
    // Verify's last word on a movement's transfer: a cancelled or failed movement is asked
    // about again until this is final (succeeded or failed)
    await db.schema.alterTable('movements').addColumn('verify_status', 'text').execute();
  },
};

// Issue 11: what the operator owes (obligations), pays (batches), checks (reconciliation
// reports) and did (audit log), each movement's state history, and the destination side of
// a movement in its own currency (FX). docs/settlement-design.md has the design.
migrations['0005_settlement'] = {
  async up(db: Kysely<any>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await db.schema.alterTable('movements').addColumn('dest_currency', 'text').execute();
    await db.schema.alterTable('movements').addColumn('dest_amount_minor', 'bigint').execute();
    await db.schema.alterTable('movements').addColumn('fx_rate', 'text').execute();
    await db.schema.alterTable('movements').addColumn('fx_base', 'text').execute();
    await db.schema.alterTable('movements').addColumn('fx_quote', 'text').execute();
    await db.schema.alterTable('movements').addColumn('fx_valid_from', 'text').execute();
    await db.schema
      .createTable('batches')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('paid_by', 'text')
      .addColumn('paid_at', 'bigint')
      .addColumn('bank_reference', 'text')
      .execute();
    await db.schema
      .createTable('obligations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // no foreign key: the debt is the operator's record and outlives any clean-up of movements
      .addColumn('movement_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('dest_kind', 'text', (c) => c.notNull())
      .addColumn('dest_iban', 'text')
      .addColumn('dest_reference', 'text')
      .addColumn('dest_name', 'text')
      .addColumn('verify_transfer_id', 'text', (c) => c.notNull())
      .addColumn('verify_reference', 'text')
      .addColumn('fx_rate', 'text')
      .addColumn('fx_base', 'text')
      .addColumn('fx_quote', 'text')
      .addColumn('source_amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('source_currency', 'text', (c) => c.notNull())
      .addColumn('batch_id', 'text', (c) => c.references('batches.id'))
      .addColumn('bank_reference', 'text')
      .addColumn('paid_at', 'bigint')
      .addColumn('returned_reason', 'text')
      .addColumn('returned_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // one obligation per processed movement, whoever finishes it (request, retry, reconciliation, instance)
    await db.schema.createIndex('obligations_movement').on('obligations').column('movement_id').unique().execute();
    await db.schema.createIndex('obligations_state').on('obligations').columns(['state', 'currency']).execute();
    await db.schema.createIndex('obligations_batch').on('obligations').column('batch_id').execute();
    await db.schema.createIndex('obligations_user').on('obligations').columns(['user_id', 'created_at']).execute();
    await db.schema
      .createTable('reconciliation_reports')
      .addColumn('date', 'text', (c) => c.primaryKey())
      .addColumn('ran_at', 'bigint', (c) => c.notNull())
      .addColumn('ran_by', 'text', (c) => c.notNull())
      .addColumn('counts_json', 'text', (c) => c.notNull())
      .addColumn('items_json', 'text', (c) => c.notNull())
      .execute();
    const serial = (t: ReturnType<Kysely<any>['schema']['createTable']>) =>
      postgres ? t.addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity()) : t.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
    await serial(db.schema.createTable('audit_log'))
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target', 'text')
      .addColumn('details_json', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
    await serial(db.schema.createTable('movement_events'))
      .addColumn('movement_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'text')
      .execute();
    await db.schema.createIndex('movement_events_movement').on('movement_events').columns(['movement_id', 'seq']).execute();
    // History and append-only rules live in the database, so every writer (any instance,
    // reconciliation, an admin tool) keeps them within its own transaction.
    if (postgres) {
      await sql`
        create function connector_movement_event() returns trigger language plpgsql as $$
        begin
          if tg_op = 'INSERT' or new.status is distinct from old.status then
            insert into movement_events (movement_id, status, at, reason) values (new.id, new.status, new.updated_at, new.failure_reason);
          end if;
          return null;
        end $$`.execute(db);
      await sql`create trigger movements_history after insert or update on movements for each row execute function connector_movement_event()`.execute(db);
      await sql`
        create function connector_append_only() returns trigger language plpgsql as $$
        begin
          raise exception 'audit_log is append-only';
        end $$`.execute(db);
      await sql`create trigger audit_log_append_only before update or delete on audit_log for each row execute function connector_append_only()`.execute(db);
      await sql`create trigger obligations_ledger_version after insert or update or delete on obligations for each row execute function connector_bump_ledger_version()`.execute(db);
      return;
    }
    const event = `insert into movement_events (movement_id, status, at, reason) values (new.id, new.status, new.updated_at, new.failure_reason);`;
    await sql.raw(`create trigger movements_history_insert after insert on movements begin ${event} end`).execute(db);
    await sql.raw(`create trigger movements_history_update after update of status on movements when new.status is not old.status begin ${event} end`).execute(db);
    await sql.raw(`create trigger audit_log_no_update before update on audit_log begin select raise(abort, 'audit_log is append-only'); end`).execute(db);
    await sql.raw(`create trigger audit_log_no_delete before delete on audit_log begin select raise(abort, 'audit_log is append-only'); end`).execute(db);
    const bump = `insert into ledger_versions (user_id, version) values (new.user_id, 1) on conflict (user_id) do update set version = version + 1;`;
    await sql.raw(`create trigger obligations_ledger_version_insert after insert on obligations begin ${bump} end`).execute(db);
    await sql.raw(`create trigger obligations_ledger_version_update after update on obligations begin ${bump} end`).execute(db);
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
