/**
 * The in-memory state and rules of the Verify sandbox: sessions, logins, bank accounts,
 * transfers, verifications and balances. One `SandboxState` per sandbox instance; no
 * HTTP here (the handlers map requests onto these methods), only `SandboxError`s with
 * the status Verify would answer.
 *
 * Decisions where Verify's reference is silent (also in src/sandbox/README.md):
 * - Each login name owns its own three accounts, shared by all sessions of that login and
 *   debited when a transfer succeeds, so scenarios of different logins never interfere.
 * - A session carries exactly one transfer (its amount and currency are fixed at
 *   creation). A second `createTransfer` answers 422. Once the transfer is final
 *   (succeeded or failed) the session is `completed`.
 * - A transfer larger than the source account's balance is not refused with an HTTP
 *   error: it is created with status `failed` (as a bank declines a payment). The balance
 *   is checked again when a verification lets the transfer succeed, and the account is
 *   debited exactly once.
 */
import { randomInt } from 'node:crypto';
import { badRequest, notFound, unprocessable } from './errors.js';
import {
  BANKS,
  EXPECTED_ANSWERS,
  INITIAL_BALANCE,
  QUESTIONS,
  SMS_CHALLENGE_TEXT,
  SMS_CODE_FINISH,
  SMS_CODE_ONE_MORE,
  TEST_PASSWORD,
  accountTemplatesOf,
  testUserOf,
  type AccountTemplate,
  type TestUser,
} from './fixtures.js';
import type {
  Bank,
  BankAccount,
  RequestBody,
  Session,
  SessionStatus,
  Transfer,
  TransferStatus,
  Verification,
  VerificationStatus,
  VerificationType,
} from './types.js';

export interface StateOptions {
  /** Wrong answers allowed per verification; the last one fails it (default 3). */
  maxVerificationAttempts?: number;
  /** Sessions kept in memory; the oldest (with its transfers) is forgotten beyond it (default 50 000). */
  maxSessions?: number;
}

export type CreateSessionInput = RequestBody<'createSession'>;
export type LoginInput = RequestBody<'loginSession'>;
export type VerificationInput = RequestBody<'submitSessionVerification'>;

interface LedgerAccount extends AccountTemplate {
  balance: number;
}

interface VerificationRecord {
  id: string;
  type: VerificationType;
  status: VerificationStatus;
  verifiableType: 'session' | 'transfer';
  verifiableId: string;
  attemptCount: number;
}

interface SessionRecord {
  id: string;
  status: SessionStatus;
  amount: number;
  currency: string;
  description: string | undefined;
  createdAt: string;
  updatedAt: string;
  login: string | undefined;
  bankId: string | undefined;
  verificationId: string | undefined;
  /** `ba_` id (this session only) → IBAN of the login's account, in listing order. */
  accounts: Map<string, string>;
  transferIds: string[];
  verificationIds: string[];
}

interface TransferRecord {
  id: string;
  sessionId: string;
  bankId: string;
  sourceId: string;
  login: string;
  iban: string;
  status: TransferStatus;
  amount: number;
  currency: string;
  description: string | undefined;
  referenceId: string | undefined;
  verificationId: string | undefined;
  debited: boolean;
  createdAt: string;
  updatedAt: string;
  verificationIds: string[];
}

/** The sandbox's state as JSON, kept in a file by the embedded sandbox (see app.ts stateFile). */
export interface SandboxSnapshot {
  version: 1;
  referenceCounter: number;
  ledgers: [string, LedgerAccount[]][];
  sessions: (Omit<SessionRecord, 'accounts'> & { accounts: [string, string][] })[];
  transfers: TransferRecord[];
  verifications: VerificationRecord[];
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** ISO 4217 codes as the runtime knows them: the sandbox imports nothing of the connector. */
const CURRENCY_CODES = new Set(Intl.supportedValuesOf('currency'));

/** A Verify-style id: prefix plus 12 random letters or digits. */
export function newSandboxId(prefix: 'ses' | 'ba' | 'tr' | 'vrf'): string {
  let id = `${prefix}_`;
  for (let i = 0; i < 12; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

const now = () => new Date().toISOString();

function isFinalVerification(status: VerificationStatus): boolean {
  return status === 'succeeded' || status === 'failed';
}

export class SandboxState {
  readonly maxVerificationAttempts: number;
  readonly maxSessions: number;

  private readonly ledgers = new Map<string, LedgerAccount[]>();
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly transfers = new Map<string, TransferRecord>();
  private readonly verifications = new Map<string, VerificationRecord>();
  private referenceCounter = 0;

  constructor(options: StateOptions = {}) {
    const attempts = options.maxVerificationAttempts ?? 3;
    if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError('maxVerificationAttempts must be an integer ≥ 1');
    const maxSessions = options.maxSessions ?? 50_000;
    if (!Number.isInteger(maxSessions) || maxSessions < 1) throw new RangeError('maxSessions must be an integer ≥ 1');
    this.maxVerificationAttempts = attempts;
    this.maxSessions = maxSessions;
  }

  /** Forgets every session, transfer and verification, and refills every balance. */
  reset(): void {
    this.ledgers.clear();
    this.sessions.clear();
    this.transfers.clear();
    this.verifications.clear();
    this.referenceCounter = 0;
  }

  /** Everything the bank knows, as plain JSON (balances, sessions, transfers, verifications, the reference sequence). */
  snapshot(): SandboxSnapshot {
    return {
      version: 1,
      referenceCounter: this.referenceCounter,
      ledgers: [...this.ledgers],
      sessions: [...this.sessions.values()].map((session) => ({ ...session, accounts: [...session.accounts] })),
      transfers: [...this.transfers.values()],
      verifications: [...this.verifications.values()],
    };
  }

  /** Takes up a snapshot (see snapshot()); what it does not name starts fresh. */
  restore(snapshot: SandboxSnapshot): void {
    if (snapshot.version !== 1) throw new Error(`sandbox state version ${String(snapshot.version)} is not known`);
    this.reset();
    this.referenceCounter = snapshot.referenceCounter;
    for (const [login, accounts] of snapshot.ledgers) this.ledgers.set(login, accounts);
    for (const session of snapshot.sessions) this.sessions.set(session.id, { ...session, accounts: new Map(session.accounts) });
    for (const transfer of snapshot.transfers) this.transfers.set(transfer.id, transfer);
    for (const verification of snapshot.verifications) this.verifications.set(verification.id, verification);
  }

  // ── banks ────────────────────────────────────────────────────────────────────────

  listBanks(): Bank[] {
    return BANKS.map((bank) => ({ ...bank }));
  }

  // ── sessions ─────────────────────────────────────────────────────────────────────

  createSession(input: CreateSessionInput): Session {
    if (!CURRENCY_CODES.has(input.currency)) throw badRequest('currency is invalid');
    if (!Number.isSafeInteger(input.amount) || input.amount < 1) throw badRequest('amount must be a positive integer');
    const at = now();
    const session: SessionRecord = {
      id: this.uniqueId('ses', this.sessions),
      status: 'initial',
      amount: input.amount,
      currency: input.currency,
      description: input.description,
      createdAt: at,
      updatedAt: at,
      login: undefined,
      bankId: undefined,
      verificationId: undefined,
      accounts: new Map(),
      transferIds: [],
      verificationIds: [],
    };
    this.sessions.set(session.id, session);
    this.evictOldSessions();
    return this.renderSession(session);
  }

  getSession(sessionId: string): Session {
    return this.renderSession(this.session(sessionId));
  }

  /** The amount, currency and description a session was created with (not part of Verify's session object). */
  sessionTerms(sessionId: string): { amount: number; currency: string; description: string | undefined } {
    const s = this.session(sessionId);
    return { amount: s.amount, currency: s.currency, description: s.description };
  }

  login(sessionId: string, input: LoginInput): Session {
    const session = this.session(sessionId);
    if (session.status !== 'initial') {
      throw unprocessable(
        session.status === 'failed'
          ? `Session ${session.id} has failed; create a new session`
          : `Session ${session.id} has already been logged in`,
      );
    }
    const bank = BANKS.find((b) => b.id === input.bank_id);
    if (!bank) throw badRequest(`bank_id is invalid: no such bank (${input.bank_id})`);
    session.bankId = bank.id;
    session.login = input.credentials.login;
    const user = testUserOf(input.credentials.login)?.user;
    const outcome = user && input.credentials.password === TEST_PASSWORD ? user.onLogin : 'failed';
    switch (outcome) {
      case 'connected':
        this.connect(session);
        break;
      case 'sms':
      case 'questions':
        this.setSessionStatus(session, 'pending_verification');
        session.verificationId = this.newVerification(outcome, 'session', session.id, session.verificationIds).id;
        break;
      case 'failed':
        this.setSessionStatus(session, 'failed');
        break;
    }
    return this.renderSession(session);
  }

  // ── bank accounts ────────────────────────────────────────────────────────────────

  listBankAccounts(sessionId: string): BankAccount[] {
    const session = this.session(sessionId);
    this.requireConnected(session);
    return [...session.accounts].map(([id, iban]) => this.renderAccount(session, id, iban));
  }

  // ── transfers ────────────────────────────────────────────────────────────────────

  createTransfer(sessionId: string, sourceId: string): Transfer {
    const session = this.session(sessionId);
    const existing = session.transferIds[0];
    if (existing !== undefined) {
      throw unprocessable(`Session ${session.id} already has a transfer (${existing}); create a new session for another transfer`);
    }
    this.requireConnected(session);
    const iban = session.accounts.get(sourceId);
    if (iban === undefined) throw notFound(`No such bank account: ${sourceId}`);
    const account = this.ledgerAccount(session.login!, iban);
    if (account.currency !== session.currency) {
      throw badRequest(`Source account currency (${account.currency}) must match the session currency (${session.currency})`);
    }
    const at = now();
    const transfer: TransferRecord = {
      id: this.uniqueId('tr', this.transfers),
      sessionId: session.id,
      bankId: session.bankId!,
      sourceId,
      login: session.login!,
      iban,
      status: 'initial',
      amount: session.amount,
      currency: session.currency,
      description: session.description,
      referenceId: undefined,
      verificationId: undefined,
      debited: false,
      createdAt: at,
      updatedAt: at,
      verificationIds: [],
    };
    this.transfers.set(transfer.id, transfer);
    session.transferIds.push(transfer.id);
    const onTransfer = this.user(session.login!)?.onTransfer ?? 'failed';
    if (onTransfer === 'failed' || account.balance < transfer.amount) {
      this.finishTransfer(transfer, 'failed');
    } else if (onTransfer === 'succeeded') {
      this.settle(transfer);
    } else {
      transfer.status = 'pending_verification';
      transfer.verificationId = this.newVerification(onTransfer, 'transfer', transfer.id, transfer.verificationIds).id;
    }
    return this.renderTransfer(transfer);
  }

  listSessionTransfers(sessionId: string): Transfer[] {
    const session = this.session(sessionId);
    return session.transferIds.map((id) => this.renderTransfer(this.transfer(id)));
  }

  getSessionTransfer(sessionId: string, transferId: string): Transfer {
    const session = this.session(sessionId);
    const transfer = this.transfers.get(transferId);
    if (!transfer || transfer.sessionId !== session.id) throw notFound(`No such transfer: ${transferId}`);
    return this.renderTransfer(transfer);
  }

  getTransfer(transferId: string): Transfer {
    return this.renderTransfer(this.transfer(transferId));
  }

  // ── verifications ────────────────────────────────────────────────────────────────

  submitSessionVerification(sessionId: string, verificationId: string, input: VerificationInput): Verification {
    const session = this.session(sessionId);
    const verification = this.verificationOf('session', session.id, verificationId);
    if (!isFinalVerification(verification.status)) {
      const result = this.answer(verification, input);
      if (result === 'finish') {
        session.verificationId = undefined;
        this.connect(session);
      } else if (result === 'one_more') {
        session.verificationId = this.newVerification('questions', 'session', session.id, session.verificationIds).id;
        session.updatedAt = now();
      } else if (result === 'failed') {
        session.verificationId = undefined;
        this.setSessionStatus(session, 'failed');
      } else {
        session.updatedAt = now();
      }
    }
    return { ...this.renderVerification(verification), verifiable: this.renderSession(session) };
  }

  submitTransferVerification(transferId: string, verificationId: string, input: VerificationInput): Verification {
    const transfer = this.transfer(transferId);
    const verification = this.verificationOf('transfer', transfer.id, verificationId);
    if (!isFinalVerification(verification.status)) {
      const result = this.answer(verification, input);
      if (result === 'finish') {
        transfer.verificationId = undefined;
        this.settle(transfer);
      } else if (result === 'one_more') {
        transfer.verificationId = this.newVerification('questions', 'transfer', transfer.id, transfer.verificationIds).id;
        transfer.updatedAt = now();
      } else if (result === 'failed') {
        transfer.verificationId = undefined;
        this.finishTransfer(transfer, 'failed');
      } else {
        transfer.updatedAt = now();
      }
    }
    return { ...this.renderVerification(verification), verifiable: this.renderTransfer(transfer) };
  }

  // ── inspection (tests and benchmarks; not part of Verify's API) ─────────────────

  /**
   * Per login that moved money: how many of its transfers debited an account, the total
   * debited (minor units) and its balances now. A movement made twice shows as 2 debits.
   * Only transfers of sessions still in memory (see maxSessions).
   */
  debits(): Record<string, { debits: number; debitedMinor: number; balances: Record<string, number> }> {
    const out: Record<string, { debits: number; debitedMinor: number; balances: Record<string, number> }> = {};
    for (const transfer of this.transfers.values()) {
      if (!transfer.debited) continue;
      const entry = (out[transfer.login] ??= {
        debits: 0,
        debitedMinor: 0,
        balances: Object.fromEntries(this.ledger(transfer.login).map((a) => [a.iban, a.balance])),
      });
      entry.debits += 1;
      entry.debitedMinor += transfer.amount;
    }
    return out;
  }

  // ── internals ────────────────────────────────────────────────────────────────────

  private uniqueId(prefix: 'ses' | 'tr' | 'vrf', taken: Map<string, unknown>): string {
    let id = newSandboxId(prefix);
    while (taken.has(id)) id = newSandboxId(prefix);
    return id;
  }

  private session(sessionId: string): SessionRecord {
    const session = this.sessions.get(sessionId);
    if (!session) throw notFound(`No such session: ${sessionId}`);
    return session;
  }

  private transfer(transferId: string): TransferRecord {
    const transfer = this.transfers.get(transferId);
    if (!transfer) throw notFound(`No such transfer: ${transferId}`);
    return transfer;
  }

  private user(login: string): TestUser | undefined {
    return testUserOf(login)?.user;
  }

  private verificationOf(kind: 'session' | 'transfer', parentId: string, verificationId: string): VerificationRecord {
    const verification = this.verifications.get(verificationId);
    if (!verification || verification.verifiableType !== kind || verification.verifiableId !== parentId) {
      throw notFound(`No such verification: ${verificationId}`);
    }
    return verification;
  }

  private requireConnected(session: SessionRecord): void {
    if (session.status !== 'connected') {
      throw unprocessable(`Session ${session.id} is not connected (status: ${session.status})`);
    }
  }

  private setSessionStatus(session: SessionRecord, status: SessionStatus): void {
    session.status = status;
    session.updatedAt = now();
  }

  /** Logged in: the login's accounts get new `ba_` ids, valid in this session only. */
  private connect(session: SessionRecord): void {
    const ledger = this.ledger(session.login!);
    session.accounts.clear();
    for (const account of ledger) {
      let id = newSandboxId('ba');
      while (session.accounts.has(id)) id = newSandboxId('ba');
      session.accounts.set(id, account.iban);
    }
    this.setSessionStatus(session, 'connected');
  }

  private ledger(login: string): LedgerAccount[] {
    let ledger = this.ledgers.get(login);
    if (!ledger) {
      ledger = accountTemplatesOf(testUserOf(login)?.variant ?? 0).map((t) => ({ ...t, balance: INITIAL_BALANCE }));
      this.ledgers.set(login, ledger);
    }
    return ledger;
  }

  private ledgerAccount(login: string, iban: string): LedgerAccount {
    const account = this.ledger(login).find((a) => a.iban === iban);
    if (!account) throw new Error(`sandbox invariant: no account ${iban} for ${login}`);
    return account;
  }

  private renderAccount(session: SessionRecord, id: string, iban: string): BankAccount {
    const account = this.ledgerAccount(session.login!, iban);
    return {
      id,
      object: 'bank_account',
      bank_id: session.bankId!,
      iban: account.iban,
      number: account.number,
      type: account.type,
      currency: account.currency,
      balance: account.balance,
      session_id: session.id,
    };
  }

  /** The bank executes the transfer: debit once if the balance allows, else fail. */
  private settle(transfer: TransferRecord): void {
    if (transfer.status === 'succeeded' || transfer.status === 'failed') return;
    const account = this.ledgerAccount(transfer.login, transfer.iban);
    if (!transfer.debited) {
      if (account.balance < transfer.amount) {
        this.finishTransfer(transfer, 'failed');
        return;
      }
      account.balance -= transfer.amount;
      transfer.debited = true;
    }
    transfer.referenceId = this.newReference();
    this.finishTransfer(transfer, 'succeeded');
  }

  private finishTransfer(transfer: TransferRecord, status: 'succeeded' | 'failed'): void {
    transfer.status = status;
    transfer.verificationId = undefined;
    transfer.updatedAt = now();
    const session = this.sessions.get(transfer.sessionId);
    if (session && session.status === 'connected') this.setSessionStatus(session, 'completed');
  }

  /** A bank reference like Verify's example `TB2018081900042`: TB + date + sequence. */
  private newReference(): string {
    this.referenceCounter += 1;
    const date = now().slice(0, 10).replace(/-/g, '');
    return `TB${date}${String(this.referenceCounter).padStart(5, '0')}`;
  }

  private newVerification(
    type: VerificationType,
    verifiableType: 'session' | 'transfer',
    verifiableId: string,
    owned: string[],
  ): VerificationRecord {
    const verification: VerificationRecord = {
      id: this.uniqueId('vrf', this.verifications),
      type,
      status: 'initial',
      verifiableType,
      verifiableId,
      attemptCount: 0,
    };
    this.verifications.set(verification.id, verification);
    owned.push(verification.id);
    return verification;
  }

  /** Applies one answer to an open verification. */
  private answer(verification: VerificationRecord, input: VerificationInput): 'finish' | 'one_more' | 'retry' | 'failed' {
    let correct: 'finish' | 'one_more' | false;
    if (verification.type === 'sms') {
      if (typeof input.challenge_response !== 'string') throw badRequest('challenge_response is missing');
      const code = input.challenge_response.trim();
      correct = code === SMS_CODE_FINISH ? 'finish' : code === SMS_CODE_ONE_MORE ? 'one_more' : false;
    } else {
      if (!Array.isArray(input.answers)) throw badRequest('answers is missing');
      const given = input.answers.map((a) => a.trim().toLowerCase());
      correct = given.length === EXPECTED_ANSWERS.length && EXPECTED_ANSWERS.every((a, i) => given[i] === a) ? 'finish' : false;
    }
    verification.attemptCount += 1;
    if (correct) {
      verification.status = 'succeeded';
      return correct;
    }
    if (verification.attemptCount >= this.maxVerificationAttempts) {
      verification.status = 'failed';
      return 'failed';
    }
    verification.status = 'retry';
    return 'retry';
  }

  private renderVerification(v: VerificationRecord): Verification {
    return {
      id: v.id,
      object: 'verification',
      type: v.type,
      status: v.status,
      verifiable_id: v.verifiableId,
      verifiable_type: v.verifiableType,
      attempt_count: v.attemptCount,
      ...(v.type === 'sms' ? { challenge_text: SMS_CHALLENGE_TEXT } : { questions: [...QUESTIONS] }),
    };
  }

  private renderSession(s: SessionRecord): Session {
    const verification = s.status === 'pending_verification' && s.verificationId ? this.verifications.get(s.verificationId) : undefined;
    return {
      id: s.id,
      object: 'session',
      status: s.status,
      ...(verification ? { verification: this.renderVerification(verification) } : {}),
      created_at: s.createdAt,
      updated_at: s.updatedAt,
    };
  }

  private renderTransfer(t: TransferRecord): Transfer {
    const verification = t.status === 'pending_verification' && t.verificationId ? this.verifications.get(t.verificationId) : undefined;
    return {
      id: t.id,
      object: 'transfer',
      bank_id: t.bankId,
      source_id: t.sourceId,
      status: t.status,
      amount: t.amount,
      currency: t.currency,
      ...(t.description !== undefined ? { description: t.description } : {}),
      ...(t.referenceId !== undefined ? { reference_id: t.referenceId } : {}),
      ...(verification ? { verification: this.renderVerification(verification) } : {}),
      session_id: t.sessionId,
      created_at: t.createdAt,
      updated_at: t.updatedAt,
    };
  }

  private evictOldSessions(): void {
    for (const [id, session] of this.sessions) {
      if (this.sessions.size <= this.maxSessions) break;
      this.sessions.delete(id);
      for (const vid of session.verificationIds) this.verifications.delete(vid);
      for (const tid of session.transferIds) {
        const transfer = this.transfers.get(tid);
        for (const vid of transfer?.verificationIds ?? []) this.verifications.delete(vid);
        this.transfers.delete(tid);
      }
    }
  }
}
