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
