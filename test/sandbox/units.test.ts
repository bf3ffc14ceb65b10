/**
 * Unit checks of the sandbox's parts that need no HTTP: key parsing, ids, memory bound,
 * option checks, the error mapping.
 */
import { describe, expect, it } from 'vitest';
import { toErrorReply, validationMessage } from '../../src/sandbox/errors.js';
import { readKey } from '../../src/sandbox/security.js';
import { SandboxState, newSandboxId } from '../../src/sandbox/state.js';

describe('readKey', () => {
  it.each([
    ['Token sk_test_abc', { ok: true, kind: 'secret', key: 'sk_test_abc' }],
    ['Bearer pk_test_abc', { ok: true, kind: 'public', key: 'pk_test_abc' }],
    ['  token   "sk_test_q"  ', { ok: true, kind: 'secret', key: 'sk_test_q' }],
  ])('%s', (header, expected) => {
    expect(readKey(header)).toEqual(expected);
  });

  it.each([undefined, '', 'sk_test_abc', 'Token', 'Token sk_live_abc', 'Token pk_abc', 'Basic pk_test_abc', 'Token sk_test_a b'])('refuses %s', (header) => {
    expect(readKey(header).ok).toBe(false);
  });
});

describe('SandboxState', () => {
  it('makes Verify-style ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newSandboxId('ses')));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^ses_[A-Za-z0-9]{12}$/);
  });

  it('forgets the oldest sessions beyond maxSessions, with their transfers', () => {
    const state = new SandboxState({ maxSessions: 2 });
    const a = state.createSession({ currency: 'AED', amount: 1 });
    state.login(a.id, { bank_id: 'test_bank', credentials: { login: 'test', password: 'test_pass' } });
    const source = state.listBankAccounts(a.id)[0]!.id;
    const transfer = state.createTransfer(a.id, source);
    const b = state.createSession({ currency: 'AED', amount: 1 });
    state.createSession({ currency: 'AED', amount: 1 });
    expect(() => state.getSession(a.id)).toThrow(/No such session/);
    expect(() => state.getTransfer(transfer.id)).toThrow(/No such transfer/);
    expect(state.getSession(b.id).status).toBe('initial');
    // Balances belong to the login, not the session: the debit stays.
    const c = state.createSession({ currency: 'AED', amount: 1 });
    state.login(c.id, { bank_id: 'test_bank', credentials: { login: 'test', password: 'test_pass' } });
    expect(state.listBankAccounts(c.id)[0]!.balance).toBe(999);
  });

  it('checks its options', () => {
    expect(() => new SandboxState({ maxVerificationAttempts: 0 })).toThrow(RangeError);
    expect(() => new SandboxState({ maxSessions: 1.5 })).toThrow(RangeError);
  });

  it('refuses amounts beyond exact integers', () => {
    const state = new SandboxState();
    expect(() => state.createSession({ currency: 'AED', amount: 2 ** 53 })).toThrow(/amount/);
  });
});

describe('error mapping', () => {
  it('names the field of a validation error', () => {
    expect(validationMessage([{ keyword: 'required', instancePath: '/credentials', params: { missingProperty: 'login' } }], 'body')).toBe(
      'credentials[login] is missing',
    );
    expect(validationMessage([{ keyword: 'pattern', instancePath: '/session_id', params: {} }], 'params')).toBe('session_id is invalid');
    expect(validationMessage([{ keyword: 'type', instancePath: '', params: { type: 'object' } }], 'body')).toBe('body must be of type object');
  });

  it('hides the details of unexpected errors', () => {
    expect(toErrorReply(new Error('secret internals'))).toEqual({ status: 500, body: { object: 'error', message: 'An unexpected error occurred. Please try again later.' } });
    expect(toErrorReply('a string')).toMatchObject({ status: 500 });
  });

  it('answers the decisive message of a glue SecurityError', () => {
    const err = Object.assign(new Error('None of the security schemes (secretKey, publicKey) successfully authenticated this request.'), {
      name: 'Unauthorized',
      statusCode: 403,
      errors: [Object.assign(new Error('This endpoint requires a secret key'), { statusCode: 403 })],
    });
    expect(toErrorReply(err)).toEqual({ status: 403, body: { object: 'error', message: 'This endpoint requires a secret key' } });
  });
});
