/**
 * Verify's documented test mode (../shared/reference/CONTRACT-NOTES.md, "Sandbox"):
 * the test bank, its three accounts, the login names that pick a scenario, the sms
 * codes and the questions. Everything the sandbox "knows" about Verify's test mode is
 * here, in one place.
 */
import type { BankAccount, Bank, TransferStatus } from './types.js';

export const TEST_BANK: Bank = { id: 'test_bank', object: 'bank', name: 'Test Bank' };
export const BANKS: readonly Bank[] = [TEST_BANK];

/** The password of every test user; any other password fails the login. */
export const TEST_PASSWORD = 'test_pass';

/** Balance of every test account at start (minor units). */
export const INITIAL_BALANCE = 1000;

export interface AccountTemplate {
  iban: string;
  number: string;
  type: BankAccount['type'];
  currency: string;
}

/** The three accounts every test login owns (each login its own copy). */
export const ACCOUNT_TEMPLATES: readonly AccountTemplate[] = [
  { iban: 'AE070331234567890123456', number: '1234567890123456', type: 'current', currency: 'AED' },
  { iban: 'AE070331234567890123457', number: '1234567890123457', type: 'savings', currency: 'USD' },
  { iban: 'AE070331234567890123458', number: '1234567890123458', type: 'savings', currency: 'BHD' },
];

export type LoginOutcome = 'connected' | 'sms' | 'questions' | 'failed';
export type TransferOutcome = Extract<TransferStatus, 'succeeded' | 'failed'> | 'sms' | 'questions';

export interface TestUser {
  login: string;
  onLogin: LoginOutcome;
  onTransfer: TransferOutcome;
  description: string;
}

export const TEST_USERS: readonly TestUser[] = [
  { login: 'test', onLogin: 'connected', onTransfer: 'succeeded', description: 'login connects; transfers succeed' },
  { login: 'test_otp', onLogin: 'sms', onTransfer: 'succeeded', description: 'login needs an sms verification; transfers succeed' },
  { login: 'test_questions', onLogin: 'questions', onTransfer: 'succeeded', description: 'login needs a questions verification; transfers succeed' },
  { login: 'failure', onLogin: 'failed', onTransfer: 'failed', description: 'login fails' },
  { login: 'test_transfer_failure', onLogin: 'connected', onTransfer: 'failed', description: 'login connects; transfers fail' },
  { login: 'test_transfer_otp', onLogin: 'connected', onTransfer: 'sms', description: 'login connects; each transfer needs an sms verification' },
  { login: 'test_transfer_questions', onLogin: 'connected', onTransfer: 'questions', description: 'login connects; each transfer needs a questions verification' },
];

/**
 * Minted test customers: `<login>+<n>` (n a decimal 1…999999999 without leading zeros, e.g.
 * `test+42`, `test_transfer_otp+7`) behaves exactly like `<login>` but is a customer of its
 * own: its own three accounts, with IBANs and account numbers of its own and its own
 * balances. Benchmarks and tests play thousands of distinct customers with them.
 */
const MINTED = /^([a-z_]+)\+([1-9][0-9]{0,8})$/;

/** The documented test user a login behaves as (itself or the base of a minted `login+n`), and n (0 for the base). */
export function testUserOf(login: string): { user: TestUser; variant: number } | undefined {
  const exact = TEST_USERS.find((u) => u.login === login);
  if (exact) return { user: exact, variant: 0 };
  const match = MINTED.exec(login);
  if (!match) return undefined;
  const user = TEST_USERS.find((u) => u.login === match[1]);
  return user ? { user, variant: Number(match[2]) } : undefined;
}

/** ISO 13616 check digits (mod 97) of an IBAN given without them. */
function ibanCheckDigits(country: string, bban: string): string {
  const digits = `${bban}${country}00`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rest = 0;
  for (const d of digits) rest = (rest * 10 + Number(d)) % 97;
  return String(98 - rest).padStart(2, '0');
}

/**
 * The accounts of a login: the documented three for a documented login, and for minted
 * customer n the same types and currencies with account numbers `9` + n (11 digits) + the
 * template's last 4, and valid IBANs (bank code 033) of those numbers.
 */
export function accountTemplatesOf(variant: number): readonly AccountTemplate[] {
  if (variant === 0) return ACCOUNT_TEMPLATES;
  return ACCOUNT_TEMPLATES.map((t) => {
    const number = `9${String(variant).padStart(11, '0')}${t.number.slice(-4)}`;
    const bban = `033${number}`;
    return { ...t, number, iban: `AE${ibanCheckDigits('AE', bban)}${bban}` };
  });
}

export const SMS_CHALLENGE_TEXT = 'Please, enter test OTP (1234 to finish or 12345 for one more verification)';
/** sms code that finishes the verification. */
export const SMS_CODE_FINISH = '1234';
/** sms code that succeeds but attaches one more (questions) verification. */
export const SMS_CODE_ONE_MORE = '12345';

/** Each question carries its answer in parentheses. */
export const QUESTIONS: readonly string[] = ['What is your favorite language (ruby)', 'What is your favorite editor (vim)'];
export const EXPECTED_ANSWERS: readonly string[] = QUESTIONS.map((q) => /\(([^)]*)\)\s*$/.exec(q)?.[1] ?? '');

/** Keys printed by `npm run sandbox:verify`; any `sk_test_…` / `pk_test_…` works. */
export const EXAMPLE_SECRET_KEY = 'sk_test_sandbox';
export const EXAMPLE_PUBLIC_KEY = 'pk_test_sandbox';
