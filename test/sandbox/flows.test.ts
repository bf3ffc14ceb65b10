/**
 * The Verify sandbox's scenarios over real HTTP: every test user through login and
 * transfer, verifications (chained, retry, failure, idempotent), balances, per-login
 * isolation, per-session `ba_` ids and the reconciliation reads. Every answer is checked
 * against spec/verify.yaml by the harness.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PK, SK, startSandbox, type Running } from './harness.js';

const SMS_TEXT = 'Please, enter test OTP (1234 to finish or 12345 for one more verification)';
const QUESTIONS = ['What is your favorite language (ruby)', 'What is your favorite editor (vim)'];
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let run: Running;
beforeAll(async () => {
  run = await startSandbox();
});
afterAll(async () => {
  await run.close();
});
beforeEach(() => run.sandbox.reset());

const api = () => run.client;

async function balances(login: string) {
  const s = await api().connectedSession(login);
  return Object.fromEntries(s.accounts.map((a) => [a.currency, a.balance]));
}

describe('banks and sessions', () => {
  it('lists the test bank', async () => {
    const res = await api().listBanks();
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ id: 'test_bank', object: 'bank', name: 'Test Bank' }]);
  });

  it('creates an initial session with Verify-style id and timestamps', async () => {
    const res = await api().createSession({ currency: 'AED', amount: 10000, description: 'My First Session' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'session', status: 'initial' });
    expect(res.body.id).toMatch(/^ses_[A-Za-z0-9]{12}$/);
    expect(res.body.created_at).toMatch(ISO_MS);
    expect(res.body.updated_at).toBe(res.body.created_at);
    expect(res.body).not.toHaveProperty('verification');
    expect(run.sandbox.state.sessionTerms(res.body.id)).toEqual({ amount: 10000, currency: 'AED', description: 'My First Session' });
    const read = await api().getSession(res.body.id);
    expect(read.body).toEqual(res.body);
  });

  it('answers 404 for an unknown session, 400 for a malformed id', async () => {
    const unknown = await api().getSession('ses_AAAAAAAAAAAA');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe('No such session: ses_AAAAAAAAAAAA');
    const malformed = await api().getSession('ses_short');
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toBe('session_id is invalid');
  });

  it('refuses an unknown bank and a second login', async () => {
    const { body: s } = await api().createSession({ currency: 'AED', amount: 100 });
    const bad = await api().call('loginSession', 'POST', `/sessions/${s.id}/login`, {
      json: { bank_id: 'nobank', credentials: { login: 'test', password: 'test_pass' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/bank_id is invalid.*nobank/);
    expect((await api().getSession(s.id)).body.status).toBe('initial');
    expect((await api().login(s.id, 'test')).body.status).toBe('connected');
    const again = await api().login(s.id, 'test');
    expect(again.status).toBe(422);
    expect(again.body.message).toBe(`Session ${s.id} has already been logged in`);
  });
});

describe('login scenarios', () => {
  it('test: connects; the three accounts of the test bank', async () => {
    const { body: s } = await api().createSession({ currency: 'AED', amount: 100 });
    const login = await api().login(s.id, 'test');
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ id: s.id, object: 'session', status: 'connected', created_at: s.created_at });
    expect(login.body).not.toHaveProperty('verification');
    const accounts = await api().listBankAccounts(s.id);
    expect(accounts.status).toBe(200);
    expect(accounts.body.map((a: { id: string }) => a.id).every((id: string) => /^ba_[A-Za-z0-9]{12}$/.test(id))).toBe(true);
    expect(accounts.body.map(({ id: _id, ...rest }: { id: string }) => rest)).toEqual([
      { object: 'bank_account', bank_id: 'test_bank', iban: 'AE070331234567890123456', number: '1234567890123456', type: 'current', currency: 'AED', balance: 1000, session_id: s.id },
      { object: 'bank_account', bank_id: 'test_bank', iban: 'AE070331234567890123457', number: '1234567890123457', type: 'savings', currency: 'USD', balance: 1000, session_id: s.id },
      { object: 'bank_account', bank_id: 'test_bank', iban: 'AE070331234567890123458', number: '1234567890123458', type: 'savings', currency: 'BHD', balance: 1000, session_id: s.id },
    ]);
    // Listing again gives the same ids within the session.
    expect((await api().listBankAccounts(s.id)).body).toEqual(accounts.body);
  });

  it('test_otp: sms verification, 1234 connects', async () => {
    const { body: s } = await api().createSession({ currency: 'AED', amount: 100 });
    const login = await api().login(s.id, 'test_otp');
    expect(login.body.status).toBe('pending_verification');
    const v = login.body.verification;
    expect(v).toEqual({
      id: expect.stringMatching(/^vrf_[A-Za-z0-9]{12}$/),
      object: 'verification',
      type: 'sms',
      status: 'initial',
      verifiable_id: s.id,
      verifiable_type: 'session',
      attempt_count: 0,
      challenge_text: SMS_TEXT,
    });
    expect((await api().listBankAccounts(s.id)).status).toBe(422);
    const done = await api().submitSessionVerification(s.id, v.id, { challenge_response: '1234' });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ id: v.id, status: 'succeeded', attempt_count: 1, challenge_text: SMS_TEXT });
    expect(done.body.verifiable).toMatchObject({ id: s.id, object: 'session', status: 'connected' });
    expect(done.body.verifiable).not.toHaveProperty('verification');
    expect((await api().getSession(s.id)).body.status).toBe('connected');
  });

  it('test_otp: 12345 succeeds but chains a questions verification (the reference example)', async () => {
    const { body: s } = await api().createSession({ currency: 'AED', amount: 100 });
    const sms = (await api().login(s.id, 'test_otp')).body.verification;
    const chained = await api().submitSessionVerification(s.id, sms.id, { challenge_response: '12345' });
    expect(chained.body).toMatchObject({ id: sms.id, type: 'sms', status: 'succeeded', attempt_count: 1 });
    const session = chained.body.verifiable;
    expect(session.status).toBe('pending_verification');
    const questions = session.verification;
    expect(questions).toEqual({
      id: expect.stringMatching(/^vrf_/),
      object: 'verification',
      type: 'questions',
      status: 'initial',
      verifiable_id: s.id,
      verifiable_type: 'session',
      attempt_count: 0,
      questions: QUESTIONS,
    });
    expect(questions.id).not.toBe(sms.id);
    expect((await api().getSession(s.id)).body.verification.id).toBe(questions.id);
    const done = await api().submitSessionVerification(s.id, questions.id, { answers: ['ruby', 'vim'] });
    expect(done.body).toMatchObject({ id: questions.id, status: 'succeeded', attempt_count: 1 });
    expect(done.body.verifiable.status).toBe('connected');
  });

  it('test_questions: answers are case-insensitive and trimmed', async () => {
    const { body: s } = await api().createSession({ currency: 'AED', amount: 100 });
    const login = await api().login(s.id, 'test_questions');
    expect(login.body.verification).toMatchObject({ type: 'questions', status: 'initial', questions: QUESTIONS });
    const done = await api().submitSessionVerification(s.id, login.body.verification.id, { answers: [' Ruby ', 'VIM'] });
    expect(done.body.status).toBe('succeeded');
    expect(done.body.verifiable.status).toBe('connected');
  });

  it('failure: the login fails; nothing else is possible in the session', async () => {
    const { body: s } = await api().createSession({ currency: 'AED', amount: 100 });
    const login = await api().login(s.id, 'failure');
    expect(login.status).toBe(200);
    expect(login.body.status).toBe('failed');
    expect(login.body).not.toHaveProperty('verification');
    const accounts = await api().listBankAccounts(s.id);
    expect(accounts.status).toBe(422);
    expect(accounts.body.message).toBe(`Session ${s.id} is not connected (status: failed)`);
    const again = await api().login(s.id, 'test');
    expect(again.status).toBe(422);
  });

  it.each([
    ['a wrong password', 'test', 'wrong'],
    ['an unknown login', 'alice', 'test_pass'],
  ])('fails the login for %s, like `failure`', async (_what, login, password) => {
    const { body: s } = await api().createSession({ currency: 'AED', amount: 100 });
    expect((await api().login(s.id, login, password)).body.status).toBe('failed');
  });
});

describe('verification retries and failures', () => {
  it('a wrong sms code answers retry and counts the attempt; the parent embeds the retry', async () => {
    const { body: s } = await api().createSession({ currency: 'AED', amount: 100 });
    const v = (await api().login(s.id, 'test_otp')).body.verification;
    const retry = await api().submitSessionVerification(s.id, v.id, { challenge_response: '0000' });
    expect(retry.body).toMatchObject({ id: v.id, status: 'retry', attempt_count: 1 });
    expect(retry.body.verifiable.status).toBe('pending_verification');
    expect(retry.body.verifiable.verification).toMatchObject({ id: v.id, status: 'retry', attempt_count: 1 });
    const second = await api().submitSessionVerification(s.id, v.id, { challenge_response: '1111' });
    expect(second.body).toMatchObject({ status: 'retry', attempt_count: 2 });
    const ok = await api().submitSessionVerification(s.id, v.id, { challenge_response: '1234' });
    expect(ok.body).toMatchObject({ status: 'succeeded', attempt_count: 3 });
    expect(ok.body.verifiable.status).toBe('connected');
  });

  it('the third wrong answer fails the verification and the session; later answers change nothing', async () => {
    const { body: s } = await api().createSession({ currency: 'AED', amount: 100 });
    const v = (await api().login(s.id, 'test_questions')).body.verification;
    await api().submitSessionVerification(s.id, v.id, { answers: ['python', 'emacs'] });
    await api().submitSessionVerification(s.id, v.id, { answers: ['ruby'] });
    const failed = await api().submitSessionVerification(s.id, v.id, { answers: ['vim', 'ruby'] });
    expect(failed.body).toMatchObject({ id: v.id, status: 'failed', attempt_count: 3 });
    expect(failed.body.verifiable).toMatchObject({ id: s.id, status: 'failed' });
    expect(failed.body.verifiable).not.toHaveProperty('verification');
    const late = await api().submitSessionVerification(s.id, v.id, { answers: ['ruby', 'vim'] });
    expect(late.status).toBe(200);
    expect(late.body).toEqual(failed.body);
    expect((await api().getSession(s.id)).body.status).toBe('failed');
  });

  it('honours maxVerificationAttempts', async () => {
    const strict = await startSandbox({ maxVerificationAttempts: 1 });
    try {
      const { body: s } = await strict.client.createSession({ currency: 'AED', amount: 100 });
      const v = (await strict.client.login(s.id, 'test_otp')).body.verification;
      const res = await strict.client.submitSessionVerification(s.id, v.id, { challenge_response: '9999' });
      expect(res.body).toMatchObject({ status: 'failed', attempt_count: 1 });
      expect(res.body.verifiable.status).toBe('failed');
    } finally {
      await strict.close();
    }
  });

  it('submitting is idempotent once the verification succeeded', async () => {
    const { body: s } = await api().createSession({ currency: 'AED', amount: 100 });
    const v = (await api().login(s.id, 'test_otp')).body.verification;
    const first = await api().submitSessionVerification(s.id, v.id, { challenge_response: '1234' });
    const again = await api().submitSessionVerification(s.id, v.id, { challenge_response: '1234' });
    const wrong = await api().submitSessionVerification(s.id, v.id, { challenge_response: '0000' });
    expect(again.body).toEqual(first.body);
    expect(wrong.body).toEqual(first.body);
    expect(again.body.attempt_count).toBe(1);
  });

  it('a verification answers 404 through another parent, and for unknown ids', async () => {
    const { body: a } = await api().createSession({ currency: 'AED', amount: 100 });
    const { body: b } = await api().createSession({ currency: 'AED', amount: 100 });
    const v = (await api().login(a.id, 'test_otp')).body.verification;
    await api().login(b.id, 'test_otp');
    const elsewhere = await api().submitSessionVerification(b.id, v.id, { challenge_response: '1234' });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.message).toBe(`No such verification: ${v.id}`);
    expect((await api().submitSessionVerification(a.id, 'vrf_AAAAAAAAAAAA', { challenge_response: '1234' })).status).toBe(404);
    expect((await api().submitSessionVerification('ses_AAAAAAAAAAAA', v.id, { challenge_response: '1234' })).status).toBe(404);
    expect((await api().submitTransferVerification('tr_AAAAAAAAAAAA', v.id, { challenge_response: '1234' })).status).toBe(404);
    // Untouched by all of that:
    expect((await api().getSession(a.id)).body.verification).toMatchObject({ id: v.id, status: 'initial', attempt_count: 0 });
  });

  it('an answer of the wrong kind is a 400 and does not count as an attempt', async () => {
    const { body: s } = await api().createSession({ currency: 'AED', amount: 100 });
    const v = (await api().login(s.id, 'test_otp')).body.verification;
    const res = await api().submitSessionVerification(s.id, v.id, { answers: ['1234'] });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('challenge_response is missing');
    expect((await api().getSession(s.id)).body.verification.attempt_count).toBe(0);
  });
});

describe('transfers', () => {
  it('test: succeeds with the session amount, currency and description; debits once; completes the session', async () => {
    const s = await api().connectedSession('test', { currency: 'AED', amount: 250, description: 'Order 1042' });
    const source = s.account('AED');
    const res = await api().createTransfer(s.id, source.id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^tr_[A-Za-z0-9]{12}$/),
      object: 'transfer',
      bank_id: 'test_bank',
      source_id: source.id,
      status: 'succeeded',
      amount: 250,
      currency: 'AED',
      description: 'Order 1042',
      reference_id: expect.stringMatching(/^TB\d{13}$/),
      session_id: s.id,
      created_at: expect.stringMatching(ISO_MS),
      updated_at: expect.stringMatching(ISO_MS),
    });
    expect((await api().getSession(s.id)).body.status).toBe('completed');
    expect(await balances('test')).toEqual({ AED: 750, USD: 1000, BHD: 1000 });
  });

  it('omits description when the session had none', async () => {
    const s = await api().connectedSession('test', { currency: 'USD', amount: 1 });
    const res = await api().createTransfer(s.id, s.account('USD').id);
    expect(res.body.status).toBe('succeeded');
    expect(res.body).not.toHaveProperty('description');
  });

  it('test_otp and test_questions: transfers succeed right away', async () => {
    for (const login of ['test_otp', 'test_questions']) {
      const s = await api().connectedSession(login, { currency: 'BHD', amount: 100 });
      const res = await api().createTransfer(s.id, s.account('BHD').id);
      expect(res.body.status).toBe('succeeded');
      expect(await balances(login)).toEqual({ AED: 1000, USD: 1000, BHD: 900 });
    }
  });

  it('test_transfer_failure: the transfer fails, nothing is debited', async () => {
    const s = await api().connectedSession('test_transfer_failure');
    const res = await api().createTransfer(s.id, s.account('AED').id);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('failed');
    expect(res.body).not.toHaveProperty('reference_id');
    expect(res.body).not.toHaveProperty('verification');
    expect((await api().getSession(s.id)).body.status).toBe('completed');
    expect(await balances('test_transfer_failure')).toEqual({ AED: 1000, USD: 1000, BHD: 1000 });
  });

  it('test_transfer_otp: sms verification; 1234 succeeds and debits exactly once, however often it is repeated', async () => {
    const s = await api().connectedSession('test_transfer_otp', { currency: 'BHD', amount: 100 });
    const created = await api().createTransfer(s.id, s.account('BHD').id);
    expect(created.body.status).toBe('pending_verification');
    const v = created.body.verification;
    expect(v).toMatchObject({ type: 'sms', status: 'initial', verifiable_id: created.body.id, verifiable_type: 'transfer', attempt_count: 0, challenge_text: SMS_TEXT });
    expect(created.body).not.toHaveProperty('reference_id');
    expect((await api().getSession(s.id)).body.status).toBe('connected');

    const done = await api().submitTransferVerification(created.body.id, v.id, { challenge_response: '1234' });
    expect(done.body).toMatchObject({ id: v.id, status: 'succeeded', attempt_count: 1, verifiable_type: 'transfer' });
    expect(done.body.verifiable).toMatchObject({ id: created.body.id, object: 'transfer', status: 'succeeded', amount: 100, currency: 'BHD' });
    expect(done.body.verifiable.reference_id).toMatch(/^TB/);
    expect(done.body.verifiable).not.toHaveProperty('verification');
    for (let i = 0; i < 3; i++) {
      const again = await api().submitTransferVerification(created.body.id, v.id, { challenge_response: '1234' });
      expect(again.body).toEqual(done.body);
    }
    expect((await api().getSession(s.id)).body.status).toBe('completed');
    expect(await balances('test_transfer_otp')).toEqual({ AED: 1000, USD: 1000, BHD: 900 });
  });

  it('test_transfer_otp: 12345 chains a questions verification on the transfer', async () => {
    const s = await api().connectedSession('test_transfer_otp');
    const created = (await api().createTransfer(s.id, s.account('AED').id)).body;
    const chained = await api().submitTransferVerification(created.id, created.verification.id, { challenge_response: '12345' });
    expect(chained.body.status).toBe('succeeded');
    expect(chained.body.verifiable.status).toBe('pending_verification');
    const questions = chained.body.verifiable.verification;
    expect(questions).toMatchObject({ type: 'questions', status: 'initial', verifiable_id: created.id, verifiable_type: 'transfer', questions: QUESTIONS });
    expect(await balances('test_transfer_otp')).toMatchObject({ AED: 1000 });
    const done = await api().submitTransferVerification(created.id, questions.id, { answers: ['ruby', 'vim'] });
    expect(done.body.verifiable.status).toBe('succeeded');
    expect(await balances('test_transfer_otp')).toMatchObject({ AED: 900 });
  });

  it('test_transfer_questions: retry, then success', async () => {
    const s = await api().connectedSession('test_transfer_questions');
    const created = (await api().createTransfer(s.id, s.account('AED').id)).body;
    expect(created.verification).toMatchObject({ type: 'questions', questions: QUESTIONS });
    const retry = await api().submitTransferVerification(created.id, created.verification.id, { answers: ['java', 'vim'] });
    expect(retry.body).toMatchObject({ status: 'retry', attempt_count: 1 });
    expect(retry.body.verifiable).toMatchObject({ status: 'pending_verification', verification: { status: 'retry', attempt_count: 1 } });
    const done = await api().submitTransferVerification(created.id, created.verification.id, { answers: ['ruby', 'vim'] });
    expect(done.body).toMatchObject({ status: 'succeeded', attempt_count: 2, verifiable: { status: 'succeeded' } });
  });

  it('the third wrong transfer answer fails the transfer, without a debit', async () => {
    const s = await api().connectedSession('test_transfer_otp');
    const created = (await api().createTransfer(s.id, s.account('AED').id)).body;
    for (const code of ['1', '2']) {
      expect((await api().submitTransferVerification(created.id, created.verification.id, { challenge_response: code })).body.status).toBe('retry');
    }
    const failed = await api().submitTransferVerification(created.id, created.verification.id, { challenge_response: '3' });
    expect(failed.body).toMatchObject({ status: 'failed', attempt_count: 3, verifiable: { id: created.id, status: 'failed' } });
    const late = await api().submitTransferVerification(created.id, created.verification.id, { challenge_response: '1234' });
    expect(late.body).toEqual(failed.body);
    expect((await api().getTransfer(created.id)).body.status).toBe('failed');
    expect((await api().getSession(s.id)).body.status).toBe('completed');
    expect(await balances('test_transfer_otp')).toMatchObject({ AED: 1000 });
  });

  it('refuses a source of another currency (400)', async () => {
    const s = await api().connectedSession('test', { currency: 'AED', amount: 100 });
    const res = await api().createTransfer(s.id, s.account('USD').id);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ object: 'error', message: 'Source account currency (USD) must match the session currency (AED)' });
    // The session is still usable with the right account.
    expect((await api().createTransfer(s.id, s.account('AED').id)).body.status).toBe('succeeded');
  });

  it('a transfer larger than the balance fails (status failed, no debit); exactly the balance succeeds', async () => {
    const big = await api().connectedSession('test', { currency: 'AED', amount: 1001 });
    const tooMuch = await api().createTransfer(big.id, big.account('AED').id);
    expect(tooMuch.status).toBe(200);
    expect(tooMuch.body).toMatchObject({ status: 'failed', amount: 1001 });
    const all = await api().connectedSession('test', { currency: 'AED', amount: 1000 });
    expect((await api().createTransfer(all.id, all.account('AED').id)).body.status).toBe('succeeded');
    const one = await api().connectedSession('test', { currency: 'AED', amount: 1 });
    expect((await api().createTransfer(one.id, one.account('AED').id)).body.status).toBe('failed');
    expect(await balances('test')).toEqual({ AED: 0, USD: 1000, BHD: 1000 });
  });

  it('a transfer waiting for verification fails when the balance fell meanwhile', async () => {
    const first = await api().connectedSession('test_transfer_otp', { currency: 'USD', amount: 600 });
    const second = await api().connectedSession('test_transfer_otp', { currency: 'USD', amount: 600 });
    const t1 = (await api().createTransfer(first.id, first.account('USD').id)).body;
    const t2 = (await api().createTransfer(second.id, second.account('USD').id)).body;
    expect([t1.status, t2.status]).toEqual(['pending_verification', 'pending_verification']);
    const ok = await api().submitTransferVerification(t1.id, t1.verification.id, { challenge_response: '1234' });
    expect(ok.body.verifiable.status).toBe('succeeded');
    const ko = await api().submitTransferVerification(t2.id, t2.verification.id, { challenge_response: '1234' });
    expect(ko.body).toMatchObject({ status: 'succeeded', verifiable: { status: 'failed' } });
    expect(await balances('test_transfer_otp')).toMatchObject({ USD: 400 });
  });

  it('one transfer per session: a second one is 422', async () => {
    const s = await api().connectedSession('test_transfer_failure');
    const first = await api().createTransfer(s.id, s.account('AED').id);
    const second = await api().createTransfer(s.id, s.account('AED').id);
    expect(second.status).toBe(422);
    expect(second.body.message).toContain(`already has a transfer (${first.body.id})`);
    expect((await api().listSessionTransfers(s.id)).body).toHaveLength(1);
  });

  it('needs a connected session and a source of this session', async () => {
    const { body: fresh } = await api().createSession({ currency: 'AED', amount: 100 });
    const early = await api().createTransfer(fresh.id, 'ba_AAAAAAAAAAAA');
    expect(early.status).toBe(422);
    expect(early.body.message).toBe(`Session ${fresh.id} is not connected (status: initial)`);
    const s = await api().connectedSession('test');
    const unknown = await api().createTransfer(s.id, 'ba_AAAAAAAAAAAA');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe('No such bank account: ba_AAAAAAAAAAAA');
    const other = await api().connectedSession('test');
    expect((await api().createTransfer(s.id, other.account('AED').id)).status).toBe(404);
    expect((await api().createTransfer(s.id, 'not-an-id')).status).toBe(400);
    const noSession = await api().createTransfer('ses_AAAAAAAAAAAA', s.account('AED').id);
    expect(noSession.status).toBe(404);
  });
});

describe('accounts across sessions and logins', () => {
  it('ba_ ids are new in every session; IBANs stay', async () => {
    const a = await api().connectedSession('test');
    const b = await api().connectedSession('test');
    const ids = (s: typeof a) => s.accounts.map((x) => x.id);
    expect(ids(a).filter((id) => ids(b).includes(id))).toEqual([]);
    expect(a.accounts.map((x) => x.iban)).toEqual(b.accounts.map((x) => x.iban));
  });

  it('each login has its own accounts: one login spending leaves the others whole', async () => {
    const s = await api().connectedSession('test', { currency: 'AED', amount: 300 });
    await api().createTransfer(s.id, s.account('AED').id);
    expect(await balances('test')).toEqual({ AED: 700, USD: 1000, BHD: 1000 });
    for (const login of ['test_otp', 'test_questions', 'test_transfer_otp', 'test_transfer_questions', 'test_transfer_failure']) {
      expect(await balances(login)).toEqual({ AED: 1000, USD: 1000, BHD: 1000 });
    }
  });

  it('reset() refills the balances', async () => {
    const s = await api().connectedSession('test', { currency: 'AED', amount: 300 });
    await api().createTransfer(s.id, s.account('AED').id);
    run.sandbox.reset();
    expect(await balances('test')).toEqual({ AED: 1000, USD: 1000, BHD: 1000 });
    expect((await api().getSession(s.id)).status).toBe(404);
  });
});

describe('reconciliation reads', () => {
  it('a client that lost the transfer answer finds it again', async () => {
    const s = await api().connectedSession('test_transfer_otp');
    expect((await api().listSessionTransfers(s.id)).body).toEqual([]);
    const created = (await api().createTransfer(s.id, s.account('AED').id)).body;

    const bySecret = await api().listSessionTransfers(s.id, { key: SK });
    const byPublic = await api().listSessionTransfers(s.id, { key: PK });
    expect(bySecret.body).toEqual([created]);
    expect(byPublic.body).toEqual([created]);
    expect((await api().getSessionTransfer(s.id, created.id, { key: SK })).body).toEqual(created);
    expect((await api().getSessionTransfer(s.id, created.id, { key: PK })).body).toEqual(created);
    expect((await api().getTransfer(created.id)).body).toEqual(created);
    expect((await api().getSession(s.id)).body.status).toBe('connected');

    await api().submitTransferVerification(created.id, created.verification.id, { challenge_response: '1234' });
    const after = await api().getTransfer(created.id);
    expect(after.body).toMatchObject({ id: created.id, status: 'succeeded', reference_id: expect.any(String) });
    expect(after.body).not.toHaveProperty('verification');
    expect((await api().listSessionTransfers(s.id)).body).toEqual([after.body]);
  });

  it('answers 404 for unknown transfers and transfers of another session; getTransfer needs the secret key', async () => {
    const s = await api().connectedSession('test');
    const t = (await api().createTransfer(s.id, s.account('AED').id)).body;
    const other = await api().connectedSession('test');
    expect((await api().getSessionTransfer(other.id, t.id)).status).toBe(404);
    const unknown = await api().getTransfer('tr_AAAAAAAAAAAA');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe('No such transfer: tr_AAAAAAAAAAAA');
    expect((await api().listSessionTransfers('ses_AAAAAAAAAAAA')).status).toBe(404);
    const forbidden = await api().getTransfer(t.id, { key: PK });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.message).toBe('This endpoint requires a secret key');
  });
});
