/**
 * Verify's documented flow, step by step as its reference shows it with curl (form
 * bodies, `Authorization: Token`): create a session (secret key) → log in `test_otp` →
 * answer 12345 → answer the two questions → list the accounts → create the transfer →
 * read it back with the secret key. `curl()` below behaves like curl's `-X`, `-H`, `-d`
 * (several `-d` joined with `&`, sent as application/x-www-form-urlencoded, POST unless
 * `-X` says otherwise), so each step is the README's command line.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PK, SK, startSandbox, type Running } from './harness.js';
import { assertMatchesSpec } from './spec-validator.js';

let run: Running;
beforeAll(async () => {
  run = await startSandbox();
});
afterAll(async () => {
  await run.close();
});

interface Curl {
  X?: string;
  H?: string[];
  d?: string[];
}

/** curl [-X method] [-H header]… [-d data]… url, answering { status, body }. */
async function curl(operationId: string, url: string, { X, H = [], d = [] }: Curl) {
  const headers: Record<string, string> = {};
  for (const h of H) {
    const i = h.indexOf(':');
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const body = d.length > 0 ? d.join('&') : undefined;
  if (body !== undefined) headers['content-type'] ??= 'application/x-www-form-urlencoded';
  const method = X ?? (body !== undefined ? 'POST' : 'GET');
  const res = await fetch(`${run.base}${url}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const json: any = await res.json();
  assertMatchesSpec(operationId, res.status, json);
  return { status: res.status, body: json };
}

it("follows Verify's documented flow with form bodies", async () => {
  // curl $SANDBOX/sessions -H "Authorization: Token sk_test_…" -d currency=AED -d amount=500 -d "description=My First Session"
  const session = await curl('createSession', '/sessions', {
    H: [`Authorization: Token ${SK}`],
    d: ['currency=AED', 'amount=500', 'description=My First Session'],
  });
  expect(session.status).toBe(200);
  expect(session.body.status).toBe('initial');
  const sid: string = session.body.id;

  // curl $SANDBOX/banks -H "Authorization: Token pk_test_…"
  const banks = await curl('listBanks', '/banks', { H: [`Authorization: Token ${PK}`] });
  expect(banks.body).toEqual([{ id: 'test_bank', object: 'bank', name: 'Test Bank' }]);

  // curl $SANDBOX/sessions/$SID/login -H "Authorization: Token pk_test_…" -d bank_id=test_bank -d "credentials[login]=test_otp" -d "credentials[password]=test_pass"
  const login = await curl('loginSession', `/sessions/${sid}/login`, {
    H: [`Authorization: Token ${PK}`],
    d: ['bank_id=test_bank', 'credentials[login]=test_otp', 'credentials[password]=test_pass'],
  });
  expect(login.body.status).toBe('pending_verification');
  expect(login.body.verification).toMatchObject({ type: 'sms', status: 'initial' });
  const smsId: string = login.body.verification.id;

  // curl $SANDBOX/sessions/$SID/verifications/$VID -X PUT -H "Authorization: Token pk_test_…" -d challenge_response=12345
  const sms = await curl('submitSessionVerification', `/sessions/${sid}/verifications/${smsId}`, {
    X: 'PUT',
    H: [`Authorization: Token ${PK}`],
    d: ['challenge_response=12345'],
  });
  expect(sms.body).toMatchObject({ id: smsId, status: 'succeeded', attempt_count: 1 });
  expect(sms.body.verifiable.status).toBe('pending_verification');
  expect(sms.body.verifiable.verification).toMatchObject({
    type: 'questions',
    questions: ['What is your favorite language (ruby)', 'What is your favorite editor (vim)'],
  });
  const questionsId: string = sms.body.verifiable.verification.id;

  // curl $SANDBOX/sessions/$SID/verifications/$QID -X PUT -H "Authorization: Token pk_test_…" -d "answers[]=ruby" -d "answers[]=vim"
  const questions = await curl('submitSessionVerification', `/sessions/${sid}/verifications/${questionsId}`, {
    X: 'PUT',
    H: [`Authorization: Token ${PK}`],
    d: ['answers[]=ruby', 'answers[]=vim'],
  });
  expect(questions.body.status).toBe('succeeded');
  expect(questions.body.verifiable.status).toBe('connected');

  // curl $SANDBOX/sessions/$SID/bank_accounts -X GET -H "Authorization: Token pk_test_…"
  const accounts = await curl('listBankAccounts', `/sessions/${sid}/bank_accounts`, { X: 'GET', H: [`Authorization: Token ${PK}`] });
  expect(accounts.body).toHaveLength(3);
  const aed = accounts.body.find((a: { currency: string }) => a.currency === 'AED');
  expect(aed).toMatchObject({ iban: 'AE070331234567890123456', type: 'current', balance: 1000 });

  // curl $SANDBOX/sessions/$SID/transfers -H "Authorization: Token pk_test_…" -d source=$BA
  const transfer = await curl('createTransfer', `/sessions/${sid}/transfers`, {
    H: [`Authorization: Token ${PK}`],
    d: [`source=${aed.id}`],
  });
  expect(transfer.body).toMatchObject({
    object: 'transfer',
    source_id: aed.id,
    status: 'succeeded',
    amount: 500,
    currency: 'AED',
    description: 'My First Session',
    session_id: sid,
  });

  // curl $SANDBOX/transfers/$TR -H "Authorization: Token sk_test_…"
  const read = await curl('getTransfer', `/transfers/${transfer.body.id}`, { H: [`Authorization: Token ${SK}`] });
  expect(read.body).toEqual(transfer.body);

  // curl $SANDBOX/sessions/$SID -H "Authorization: Token sk_test_…"
  const done = await curl('getSession', `/sessions/${sid}`, { H: [`Authorization: Token ${SK}`] });
  expect(done.body.status).toBe('completed');
  expect(run.sandbox.stats.total).toBe(9);
});
