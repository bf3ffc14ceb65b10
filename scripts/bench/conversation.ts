/**
 * Verify economy: one scripted Kasisto conversation, the Verify calls each turn causes (as
 * the embedded sandbox counts them), and the fewest the design allows. Shared by
 * `npm run bench` (prints it) and test/connector/verify-economy.test.ts (asserts it).
 */
import type { LightMyRequestResponse } from 'fastify';
import type { CallStatsSnapshot } from '../../src/sandbox/stats.js';

export interface ConversationHost {
  call(operation: string, body: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  sandbox?: { stats: { snapshot(): CallStatsSnapshot } };
}

export interface Turn {
  /** The Kasisto operation and what it is for in the conversation. */
  step: string;
  status: number;
  /** Verify operations this turn called, with counts. */
  verify: Record<string, number>;
  calls: number;
  minimum: number;
}

/**
 * The fewest Verify calls each turn needs, and why:
 * - /token: createSession + loginSession = 2. Verify needs a session to log in to.
 * - /customer: 0. The user_id is ours (an HMAC); profile names are in our store.
 * - /accounts (first): listBankAccounts on the sign-in session = 1.
 * - /transactions: 0. Verify has no statement API; the ledger is ours.
 * - /accounts (again, within ACCOUNTS_CACHE_SECONDS, no money moved): 0, cached.
 * - /transfer (answers 450): createSession + loginSession + listBankAccounts + createTransfer = 4.
 *   Verify fixes amount and currency when a session is created, so a transfer needs its own
 *   session and login; Verify's ba_ ids are per session, so that session must list its own
 *   accounts to name the source (the sign-in session's cached ba_ ids are not valid there).
 *   Checking the request (own source account, currency) needs account identities only,
 *   which the sign-in's cached listing gives: 0 more.
 * - /validate_otp: submitTransferVerification = 1. Its answer carries the transfer
 *   (`verifiable`), so no getTransfer is needed to learn that it succeeded.
 * - /transfer (the platform's retry after the OTP): 0. The movement is recognised by its
 *   fingerprint and already processed; the money moving made cached BALANCES stale, but the
 *   retry only needs account identities (ids, IBANs, currencies), which did not change.
 * - /transactions: 0.
 * Total: 2 + 1 + 4 + 1 = 8.
 */
export const MINIMUM: Record<string, number> = {
  token: 2,
  customer: 0,
  accounts: 1,
  transactions: 0,
  'accounts (cached)': 0,
  'transfer (450: OTP needed)': 4,
  validate_otp: 1,
  'transfer (retry after OTP)': 0,
  'transactions (after transfer)': 0,
};
export const MINIMUM_TOTAL = Object.values(MINIMUM).reduce((a, b) => a + b, 0);

/** test_transfer_otp: sign-in without OTP, every transfer asks for an sms code ("1234"). */
export async function runConversation(host: ConversationHost): Promise<{ turns: Turn[]; total: number; minimum: number }> {
  const stats = host.sandbox?.stats;
  if (!stats) throw new Error('the conversation counts calls at the embedded sandbox: run without VERIFY_BASE_URL');
  const turns: Turn[] = [];
  const turn = async (step: string, op: string, body: unknown, headers: Record<string, string> = {}, expected = 200) => {
    const before = stats.snapshot();
    const res = await host.call(op, body, headers);
    const after = stats.snapshot();
    if (res.statusCode !== expected) throw new Error(`${step}: expected ${expected}, got ${res.statusCode}: ${res.body}`);
    const verify: Record<string, number> = {};
    for (const [id, n] of Object.entries(after.calls)) {
      const d = n - (before.calls as Record<string, number>)[id]!;
      if (d > 0) verify[id] = d;
    }
    turns.push({ step, status: res.statusCode, verify, calls: after.total - before.total, minimum: MINIMUM[step] ?? 0 });
    return res;
  };

  const signIn = await turn('token', 'token', { username: 'test_transfer_otp', password: 'test_pass' });
  const { user_id: userId, token } = signIn.json() as { user_id: string; token: string };
  const auth = { token };
  await turn('customer', 'customer', { user_id: userId }, auth);
  const accounts = (await turn('accounts', 'accounts', { user_id: userId }, auth)).json() as Array<{ account_id: string; currency_code: string }>;
  await turn('transactions', 'transactions', { user_id: userId, limit: 10 }, auth);
  await turn('accounts (cached)', 'accounts', { user_id: userId }, auth);
  const aed = accounts.find((a) => a.currency_code === 'AED');
  const usd = accounts.find((a) => a.currency_code === 'USD');
  if (!aed || !usd) throw new Error('the test bank should give AED and USD accounts');
  const transfer = { user_id: userId, source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 2.5 };
  await turn('transfer (450: OTP needed)', 'transfer', transfer, auth, 450);
  const otp = await turn('validate_otp', 'validate_otp', { user_id: userId, otp: '1234' }, auth);
  const rotated = { token: (otp.json() as { token: string }).token };
  const done = await turn('transfer (retry after OTP)', 'transfer', transfer, rotated);
  if ((done.json() as { status?: string }).status !== 'processed') throw new Error(`the retried transfer should be processed: ${done.body}`);
  await turn('transactions (after transfer)', 'transactions', { user_id: userId, limit: 10 }, rotated);

  return { turns, total: turns.reduce((n, t) => n + t.calls, 0), minimum: MINIMUM_TOTAL };
}
