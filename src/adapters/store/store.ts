/**
 * The store: every read and write of the connector's own state, for SQLite and PostgreSQL
 * alike. Nothing above this file writes SQL.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { migrate, openDatabase, type Dialect } from './db.js';
import { VersionedCache } from './versioned-cache.js';
import { insertAudit, insertObligationOf, SettlementStore, type AuditDraft } from './settlement.js';
import { AWAITING_OTP_STATUSES, IN_FLIGHT_STATUSES, LEDGER_STATUSES, OUTCOME_UNKNOWN_STATUSES, TERMINAL_STATUSES } from '../../domain/movements/status.js';
import type { Database, Grant, GrantPatch, Movement, MovementPatch, NewGrant, NewMovement, Payee, Profile } from './schema.js';

export type { Grant, Movement, MovementPatch, NewMovement, Payee, Profile } from './schema.js';

export interface LedgerQuery {
  userId: string;
  accountIds?: string[];
  /** only these movements (an empty list: none) */
  movementIds?: string[];
  /** inclusive, epoch ms */
  from?: number;
  /** exclusive, epoch ms */
  to?: number;
  limit: number;
}

export class IdempotencyConflict extends Error {}

/** What a one-time password is answered for: a sign-in (grant) or a movement. */
export type OtpAttemptHolder = 'grant' | 'movement';
const TABLE_OF = { grant: 'grants', movement: 'movements' } as const;

/** What a ledger entry is made of (see listLedger). */
export const LEDGER_COLUMNS = [
  'id',
  'kind',
  'status',
  'amount_minor',
  'currency',
  'category',
  'description',
  'requested_date',
  'created_at',
  'completed_at',
  'verify_reference_id',
  'verify_transfer_id',
  'source_account_id',
  'source_iban',
  'dest_type',
  'dest_id',
  'dest_currency',
  'dest_amount_minor',
  'failure_reason',
] as const satisfies readonly (keyof Movement)[];
export type LedgerRow = Pick<Movement, (typeof LEDGER_COLUMNS)[number]> & {
  /** the movement's obligation (processed movements): the destination credit follows it */
  obligation_state?: 'due' | 'batched' | 'paid' | 'returned' | null;
  obligation_returned_at?: number | null;
};
const LEDGER_SELECT = LEDGER_COLUMNS.map((c) => `movements.${c}` as const);

export interface StoreOptions {
  /** PostgreSQL connections of this instance (default 10). */
  poolSize?: number;
  /**
   * How long an active login read for a token may be reused without asking the database
   * again (0: never). Every request authenticates, so this spares the hot path a query.
   * Writes made through this Store drop the login's entries at once; with several
   * instances, another instance's write (a revocation, a sign-out at expiry, balances
   * invalidated after a transfer) is seen here at most this late.
   */
  tokenCacheMs?: number;
}

type FoundToken = { grant: Grant; createdAt: number; retiredAt: number | null };

/** At most this many cached tokens; the oldest go first. */
const TOKEN_CACHE_ENTRIES = 10_000;

export class Store {
  private readonly tokenCacheMs: number;
  /**
   * Every request looks its token up: that query is built and compiled once, not per call
   * (no Kysely plugin rewrites queries or results here, so reusing it is safe).
   */
  private readonly tokenQuery: ReturnType<typeof tokenQueryOf>;
  /** Read before every /transactions answer, so compiled once too. */
  private readonly ledgerVersionQuery: ReturnType<typeof ledgerVersionQueryOf>;
  private readonly tokenCache = new Map<string, { found: FoundToken; until: number }>();
  /**
   * Ledger pages by query, kept with the user's ledger version, which the database changes in
   * the same transaction as any write to the user's movements, by any instance: a page is
   * reused only while nothing it was read from has changed. Bounded by rows kept.
   */
  private readonly ledgerPages = new VersionedCache<readonly LedgerRow[]>(50_000, (rows) => rows.length);
  /** grant id → its cached token hashes, so a write forgets them without a scan. */
  private readonly cachedTokensOfGrant = new Map<string, Set<string>>();
  /** Bumped by every grant or token write: a read that raced a write is not cached. */
  private writes = 0;
  /** Obligations, batches, reconciliation reports, the audit log (settlement.ts). */
  readonly settlement: SettlementStore;

  private constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    options: StoreOptions,
  ) {
    this.tokenCacheMs = options.tokenCacheMs ?? 0;
    this.tokenQuery = tokenQueryOf(db);
    this.ledgerVersionQuery = ledgerVersionQueryOf(db);
    this.settlement = new SettlementStore(db);
  }

  static async open(url: string, options: StoreOptions = {}): Promise<Store> {
    const { db, dialect } = openDatabase(url, options.poolSize);
    await migrate(db, dialect);
    return new Store(db, dialect, options);
  }

  /**
   * Runs a write to grants or tokens, then forgets the cached logins it touches (after the
   * write, so a read that raced it cannot put the old row back: see `writes`).
   */
  private async changing<T>(match: { grantId?: string; userId?: string }, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.writes += 1;
      if (match.grantId !== undefined) {
        for (const hash of this.cachedTokensOfGrant.get(match.grantId) ?? []) this.uncache(hash);
      }
      if (match.userId !== undefined) {
        // only after money moved: rare enough for a scan
        for (const [hash, entry] of this.tokenCache) if (entry.found.grant.user_id === match.userId) this.uncache(hash);
      }
    }
  }

  private uncache(tokenHash: string): void {
    const entry = this.tokenCache.get(tokenHash);
    if (!entry) return;
    this.tokenCache.delete(tokenHash);
    const hashes = this.cachedTokensOfGrant.get(entry.found.grant.id);
    hashes?.delete(tokenHash);
    if (hashes?.size === 0) this.cachedTokensOfGrant.delete(entry.found.grant.id);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  // ---- grants and tokens ------------------------------------------------------------

  async createGrant(grant: NewGrant, tokenHash: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('grants').values(grant).execute();
      await trx.insertInto('tokens').values({ token_hash: tokenHash, grant_id: grant.id, created_at: grant.created_at, retired_at: null }).execute();
    });
  }

  async findToken(tokenHash: string): Promise<FoundToken | undefined> {
    if (this.tokenCacheMs > 0) {
      const hit = this.tokenCache.get(tokenHash);
      if (hit && hit.until > Date.now()) return copyFound(hit.found);
      if (hit) this.uncache(tokenHash);
    }
    const writesBefore = this.writes;
    const found = await this.readToken(tokenHash);
    // Only settled logins are cached: a pending OTP or an ended login is always read afresh.
    if (found && this.tokenCacheMs > 0 && found.grant.status === 'active' && this.writes === writesBefore) {
      if (this.tokenCache.size >= TOKEN_CACHE_ENTRIES) this.uncache(this.tokenCache.keys().next().value!);
      this.tokenCache.set(tokenHash, { found: copyFound(found), until: Date.now() + this.tokenCacheMs });
      const hashes = this.cachedTokensOfGrant.get(found.grant.id) ?? new Set<string>();
      hashes.add(tokenHash);
      this.cachedTokensOfGrant.set(found.grant.id, hashes);
    }
    return found;
  }

  private async readToken(tokenHash: string): Promise<FoundToken | undefined> {
    const query: typeof this.tokenQuery = { ...this.tokenQuery, parameters: [tokenHash] };
    const [row] = (await this.db.executeQuery(query)).rows;
    if (!row) return undefined;
    const { token_created_at, token_retired_at, ...grant } = row;
    return { grant, createdAt: token_created_at, retiredAt: token_retired_at };
  }

  async getGrant(id: string): Promise<Grant | undefined> {
    return this.db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Adds a successor token and starts the predecessor's grace period (once). */
  async rotateToken(grantId: string, oldHash: string, newHash: string, now: number): Promise<void> {
    await this.changing({ grantId }, () =>
      this.db.transaction().execute(async (trx) => {
        await trx.insertInto('tokens').values({ token_hash: newHash, grant_id: grantId, created_at: now, retired_at: null }).execute();
        await trx.updateTable('tokens').set({ retired_at: now }).where('token_hash', '=', oldHash).where('retired_at', 'is', null).execute();
      }),
    );
  }

  async updateGrant(id: string, patch: GrantPatch): Promise<void> {
    await this.changing({ grantId: id }, () => this.db.updateTable('grants').set(patch).where('id', '=', id).execute());
  }

  /** Makes a login active once its sign-in verification succeeded; false if it ended meanwhile. */
  async activateGrant(id: string): Promise<boolean> {
    const result = await this.changing({ grantId: id }, () =>
      this.db
        .updateTable('grants')
        .set({ status: 'active', pending_json: null, otp_attempts: 0, otp_started_at: null })
        .where('id', '=', id)
        .where('status', '=', 'pending_otp')
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  // ---- per-customer guards ------------------------------------------------------------

  /**
   * Counts one sign-in attempt of a customer in a fixed window (one statement, shared by
   * instances) and says whether it is allowed, and whether the customer is locked out.
   */
  async countSignInAttempt(userId: string, now: number, windowMs: number): Promise<{ attempts: number; windowStartedAt: number; lockedUntil: number }> {
    const { rows } = await sql<{ attempts: number; window_started_at: number; locked_until: number }>`
      insert into customer_guards (user_id, failures, last_failure_at, locked_until, window_started_at, attempts)
      values (${userId}, 0, 0, 0, ${now}, 1)
      on conflict (user_id) do update set
        attempts = case when customer_guards.window_started_at <= ${now - windowMs} then 1 else customer_guards.attempts + 1 end,
        window_started_at = case when customer_guards.window_started_at <= ${now - windowMs} then ${now} else customer_guards.window_started_at end
      returning attempts, window_started_at, locked_until`.execute(this.db);
    const row = rows[0]!;
    return { attempts: Number(row.attempts), windowStartedAt: Number(row.window_started_at), lockedUntil: Number(row.locked_until) };
  }

  /**
   * Counts a failed password or one-time password of a customer; failures older than
   * `forgetBefore` no longer count. Past `maxFailures` the customer is locked until
   * `lockUntil` and the count starts over. Returns the lock time (0 when not locked).
   */
  async countCustomerFailure(userId: string, now: number, forgetBefore: number, maxFailures: number, lockUntil: number): Promise<number> {
    const { rows } = await sql<{ failures: number; locked_until: number }>`
      insert into customer_guards (user_id, failures, last_failure_at, locked_until, window_started_at, attempts)
      values (${userId}, 1, ${now}, 0, 0, 0)
      on conflict (user_id) do update set
        failures = case when customer_guards.last_failure_at < ${forgetBefore} then 1 else customer_guards.failures + 1 end,
        last_failure_at = ${now}
      returning failures, locked_until`.execute(this.db);
    const row = rows[0]!;
    if (Number(row.failures) < maxFailures) return Number(row.locked_until) > now ? Number(row.locked_until) : 0;
    await this.db.updateTable('customer_guards').set({ locked_until: lockUntil, failures: 0 }).where('user_id', '=', userId).execute();
    return lockUntil;
  }

  /** When the customer's lockout ends (0 when not locked). */
  async customerLockedUntil(userId: string): Promise<number> {
    const row = await this.db.selectFrom('customer_guards').select('locked_until').where('user_id', '=', userId).executeTakeFirst();
    return row ? Number(row.locked_until) : 0;
  }

  /** A completed sign-in forgets the customer's failures. */
  async clearCustomerFailures(userId: string): Promise<void> {
    await this.db.updateTable('customer_guards').set({ failures: 0, last_failure_at: 0 }).where('user_id', '=', userId).execute();
  }

  // ---- named leases -------------------------------------------------------------------

  /** Takes `name` for `owner` until `until`, if it is free, expired, or already the owner's. */
  async claimLease(name: string, owner: string, now: number, until: number): Promise<boolean> {
    const { rows } = await sql<{ owner: string }>`
      insert into leases (name, owner, until) values (${name}, ${owner}, ${until})
      on conflict (name) do update set owner = excluded.owner, until = excluded.until
        where leases.until <= ${now} or leases.owner = excluded.owner
      returning owner`.execute(this.db);
    return rows.length === 1 && rows[0]!.owner === owner;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.db.deleteFrom('leases').where('name', '=', name).where('owner', '=', owner).execute();
  }

  /** Ends a login: credentials erased, every token of it revoked. */
  async endGrant(id: string): Promise<void> {
    await this.changing({ grantId: id }, () =>
      this.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('grants')
          .set({ status: 'ended', sealed_credentials: null, accounts_json: null, pending_json: null })
          .where('id', '=', id)
          .execute();
        await trx.deleteFrom('tokens').where('grant_id', '=', id).execute();
      }),
    );
  }

  /** Ends every login past its idle or absolute lifetime; returns how many. */
  async expireGrants(now: number, idleMs: number): Promise<number> {
    const expired = await this.db
      .selectFrom('grants')
      .select('id')
      .where('status', '!=', 'ended')
      .where((eb) => eb.or([eb('absolute_expires_at', '<=', now), eb('last_used_at', '<=', now - idleMs)]))
      .execute();
    for (const { id } of expired) await this.endGrant(id);
    return expired.length;
  }

  /**
   * Marks the cached balances of every login of a user stale after money moved. The listing
   * stays: account identities (ids, IBANs, currencies) do not change when money moves.
   */
  async invalidateAccounts(userId: string): Promise<void> {
    await this.changing({ userId }, () => this.db.updateTable('grants').set({ accounts_cached_at: null }).where('user_id', '=', userId).execute());
  }

  // ---- movements ----------------------------------------------------------------------

  /**
   * Records a movement before anything is sent to Verify, unless it is a retry: the same
   * Idempotency-Key, or the same fingerprint while the first is still open or finished
   * within the retry window (an open one only if created since `openSince`). Serialized per user so two instances cannot both insert.
   */
  async recordMovement(movement: NewMovement, retryWindowStart: number, openSince: number): Promise<{ movement: Movement; created: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      await this.lockUser(trx, movement.user_id);
      if (movement.idempotency_key) {
        // a key names one request of the customer, whichever operation: reused on /payment
        // after /transfer it is a conflict (the fingerprint has the kind), not a new movement
        const existing = await trx
          .selectFrom('movements')
          .selectAll()
          .where('user_id', '=', movement.user_id)
          .where('idempotency_key', '=', movement.idempotency_key)
          .executeTakeFirst();
        if (existing) {
          if (existing.fingerprint !== movement.fingerprint) throw new IdempotencyConflict();
          return { movement: existing, created: false };
        }
      } else {
        const existing = await trx
          .selectFrom('movements')
          .selectAll()
          .where('fingerprint', '=', movement.fingerprint)
          .where('status', '!=', 'cancelled')
          .where((eb) =>
            eb.or([
              eb.and([eb('status', 'not in', TERMINAL_STATUSES), eb('created_at', '>=', openSince)]),
              // Verify may hold a transfer whose outcome we do not know yet: a retry is this movement, whatever its age
              eb('status', 'in', OUTCOME_UNKNOWN_STATUSES),
              eb('completed_at', '>=', retryWindowStart),
            ]),
          )
          .orderBy('created_at', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (existing) return { movement: existing, created: false };
      }
      await trx.insertInto('movements').values(movement).execute();
      const created = await trx.selectFrom('movements').selectAll().where('id', '=', movement.id).executeTakeFirstOrThrow();
      return { movement: created, created: true };
    });
  }

  private async lockUser(trx: Transaction<Database>, userId: string): Promise<void> {
    if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${userId}))`.execute(trx);
    // SQLite: one writer at a time already (and one process; see README's limits)
  }

  async getMovement(id: string): Promise<Movement | undefined> {
    return this.db.selectFrom('movements').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Changes a movement. Made `processed` (by any path: a request, a retry, reconciliation),
   * its obligation is inserted in the same transaction, once (unique movement_id), with the
   * audit row given (reconciliation's corrections).
   */
  async updateMovement(id: string, patch: MovementPatch, now: number, audit?: AuditDraft): Promise<Movement> {
    if (patch.status === 'processed') {
      return this.db.transaction().execute(async (trx) => {
        await trx.updateTable('movements').set({ ...patch, updated_at: now }).where('id', '=', id).execute();
        const processed = await trx.selectFrom('movements').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        await insertObligationOf(trx, processed, now);
        if (audit) await insertAudit(trx, audit, now);
        return processed;
      });
    }
    await this.db
      .updateTable('movements')
      .set({ ...patch, updated_at: now })
      .where('id', '=', id)
      .execute();
    return this.db.selectFrom('movements').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }

  /**
   * Counts one OTP attempt on a login or a movement and returns the new count, in one
   * statement (shared by every instance: two answers sent at once get two different counts).
   */
  async countOtpAttempt(holder: OtpAttemptHolder, id: string): Promise<number> {
    const row = await this.changing(holder === 'grant' ? { grantId: id } : {}, () =>
      this.db.updateTable(TABLE_OF[holder]).set({ otp_attempts: sql`otp_attempts + 1` }).where('id', '=', id).returning('otp_attempts').executeTakeFirst(),
    );
    return row?.otp_attempts ?? 0;
  }

  /** Gives back an attempt Verify never judged (it failed or did not answer), so an outage cannot lock the customer out. */
  async refundOtpAttempt(holder: OtpAttemptHolder, id: string): Promise<void> {
    await this.changing(holder === 'grant' ? { grantId: id } : {}, () =>
      this.db.updateTable(TABLE_OF[holder]).set({ otp_attempts: sql`otp_attempts - 1` }).where('id', '=', id).where('otp_attempts', '>', 0).execute(),
    );
  }

  /**
   * Takes the right to drive a movement until `until`. Only one instance holds it, so
   * two instances never talk to Verify about the same movement at once.
   */
  async claimMovement(id: string, owner: string, now: number, until: number): Promise<boolean> {
    const result = await this.db
      .updateTable('movements')
      .set({ lease_owner: owner, lease_until: until })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now), eb('lease_owner', '=', owner)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async releaseMovement(id: string, owner: string): Promise<void> {
    await this.db.updateTable('movements').set({ lease_owner: null, lease_until: null }).where('id', '=', id).where('lease_owner', '=', owner).execute();
  }

  /** The movement of a login that waits for the customer's one-time password, newest first. */
  async findAwaitingMovement(grantId: string): Promise<Movement | undefined> {
    return this.db
      .selectFrom('movements')
      .selectAll()
      .where('grant_id', '=', grantId)
      .where('status', 'in', AWAITING_OTP_STATUSES)
      .orderBy('updated_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** Movements a crash may have left between two steps (awaiting-OTP ones are not stuck). */
  async listInFlightMovements(): Promise<Movement[]> {
    return this.db
      .selectFrom('movements')
      .selectAll()
      .where('status', 'in', IN_FLIGHT_STATUSES)
      .orderBy('created_at')
      .execute();
  }

  /** Movements awaiting an OTP past the window: they will never complete. */
  async listStaleAwaitingMovements(olderThan: number): Promise<Movement[]> {
    return this.db
      .selectFrom('movements')
      .selectAll()
      .where('status', 'in', AWAITING_OTP_STATUSES)
      .where('otp_started_at', '<', olderThan)
      .execute();
  }

  /** Cancelled or failed movements with a Verify transfer whose last known status is not final, created since `since`. */
  async listUnsettledEndings(since: number): Promise<Movement[]> {
    return this.db
      .selectFrom('movements')
      .selectAll()
      .where('status', 'in', ['cancelled', 'failed'])
      .where('verify_transfer_id', 'is not', null)
      .where((eb) => eb.or([eb('verify_status', 'is', null), eb('verify_status', 'not in', ['succeeded', 'failed'])]))
      .where('created_at', '>=', since)
      .orderBy('created_at')
      .execute();
  }

  /** Interrupted movements created before `createdBefore`: too old for the platform's retry to resume them. */
  async listInterruptedMovements(createdBefore: number): Promise<Movement[]> {
    return this.db.selectFrom('movements').selectAll().where('status', '=', 'interrupted').where('created_at', '<', createdBefore).execute();
  }

  /**
   * The user's ledger, newest first: every movement that moved or may still move money.
   * Only the columns a statement shows (better-sqlite3 builds wide rows slowly).
   */
  async listLedger(query: LedgerQuery): Promise<readonly LedgerRow[]> {
    // the version first, then the rows: rows are never kept under a version newer than they are
    const version = await this.ledgerVersion(query.userId);
    const key = JSON.stringify([query.userId, query.accountIds ? [...query.accountIds].sort() : null, query.movementIds ? [...query.movementIds].sort() : null, query.from ?? null, query.to ?? null, query.limit]);
    const kept = this.ledgerPages.get(key, version);
    if (kept !== undefined) return kept;
    const rows = Object.freeze(await this.readLedger(query));
    this.ledgerPages.set(key, version, rows);
    return rows;
  }

  private async readLedger(query: LedgerQuery): Promise<LedgerRow[]> {
    let q = this.db
      .selectFrom('movements')
      .leftJoin('obligations', 'obligations.movement_id', 'movements.id')
      .select(LEDGER_SELECT)
      .select(['obligations.state as obligation_state', 'obligations.returned_at as obligation_returned_at'])
      .where('movements.user_id', '=', query.userId)
      .where('movements.status', 'in', LEDGER_STATUSES);
    if (query.accountIds && query.accountIds.length > 0) {
      const ids = query.accountIds;
      q = q.where((eb) => eb.or([eb('movements.source_account_id', 'in', ids), eb.and([eb('movements.dest_type', '=', 'account'), eb('movements.dest_id', 'in', ids)])]));
    }
    if (query.movementIds) {
      if (query.movementIds.length === 0) return [];
      q = q.where('movements.id', 'in', query.movementIds);
    }
    if (query.from !== undefined) q = q.where('movements.created_at', '>=', query.from);
    if (query.to !== undefined) q = q.where('movements.created_at', '<', query.to);
    return q.orderBy('movements.created_at', 'desc').orderBy('movements.id', 'desc').limit(query.limit).execute();
  }

  /**
   * The user's ledger version (0 before any movement): changes with every write to the user's
   * movements, by any instance (database triggers bump it in the writing transaction).
   */
  async ledgerVersion(userId: string): Promise<number> {
    const query: typeof this.ledgerVersionQuery = { ...this.ledgerVersionQuery, parameters: [userId] };
    const [row] = (await this.db.executeQuery(query)).rows;
    return row === undefined ? 0 : Number(row.version);
  }

  /** Distinct counterparties the user has paid. */
  async listPaidPayees(userId: string): Promise<{ dest_id: string; dest_name: string | null }[]> {
    return this.db
      .selectFrom('movements')
      .select(['dest_id', 'dest_name'])
      .distinct()
      .where('user_id', '=', userId)
      .where('dest_type', '=', 'payee')
      .where('status', '=', 'processed')
      .execute();
  }

  // ---- directory ----------------------------------------------------------------------

  async listPayees(userId: string): Promise<Payee[]> {
    return this.db.selectFrom('payees').selectAll().where('user_id', 'in', ['', userId]).orderBy('name').execute();
  }

  async upsertPayee(payee: Omit<Payee, 'created_at'>, now: number): Promise<void> {
    await this.db
      .insertInto('payees')
      .values({ ...payee, created_at: now })
      .onConflict((oc) => oc.columns(['user_id', 'payee_id']).doUpdateSet({ name: payee.name, aliases_json: payee.aliases_json, iban: payee.iban, category: payee.category }))
      .execute();
  }

  async getProfile(userId: string): Promise<Profile | undefined> {
    return this.db.selectFrom('profiles').selectAll().where('user_id', '=', userId).executeTakeFirst();
  }

  async upsertProfile(profile: Omit<Profile, 'updated_at'>, now: number): Promise<void> {
    await this.db
      .insertInto('profiles')
      .values({ ...profile, updated_at: now })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ first_name: profile.first_name, last_name: profile.last_name, full_name: profile.full_name, updated_at: now }))
      .execute();
  }
}

/** Callers may change the grant they get (e.g. last_used_at): never hand out the cached object. */
function copyFound(found: FoundToken): FoundToken {
  return { grant: { ...found.grant }, createdAt: found.createdAt, retiredAt: found.retiredAt };
}

function tokenQueryOf(db: Kysely<Database>) {
  return db
    .selectFrom('tokens')
    .innerJoin('grants', 'grants.id', 'tokens.grant_id')
    .selectAll('grants')
    .select(['tokens.created_at as token_created_at', 'tokens.retired_at as token_retired_at'])
    .where('tokens.token_hash', '=', '')
    .compile();
}

function ledgerVersionQueryOf(db: Kysely<Database>) {
  return db.selectFrom('ledger_versions').select('version').where('user_id', '=', '').compile();
}
