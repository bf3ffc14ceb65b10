/**
 * Nothing the Verify client logs, prints or throws carries a key, a credential, an OTP or
 * an answer — also when Verify itself echoes them back in error messages or broken bodies.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createVerifyClient, type VerifyClient } from '../../src/adapters/verify/client.js';
import { VerifyError } from '../../src/adapters/verify/errors.js';
import { BA, PUBLIC_KEY, SECRET_KEY, SES, example, sendJson, startServer, type TestServer } from './helpers.js';

const LOGIN = 'jane.customer.4711';
const PASSWORD = 'Hunter2-Pa55word!';
const OTP = '918273';
const ANSWERS = ['Rubyist-Answer-One', 'VimEditor-Answer-Two'];
const SECRETS = [SECRET_KEY, PUBLIC_KEY, LOGIN, PASSWORD, OTP, ...ANSWERS];

/** In the failure scenarios Verify echoes back everything the call sent: key and body. */
const echoOf = (req: { headers: { authorization?: string } }, body: string): string => `${req.headers.authorization ?? ''} ${body}`;

type Mode = 'ok' | 'reject' | 'server' | 'contract' | 'not-json' | 'drop' | 'hang';

let server: TestServer;
let mode: Mode = 'ok';
const logged: string[] = [];
const printed: string[] = [];
const errors: unknown[] = [];
let client: VerifyClient;

function respondOk(method: string, url: string, body: string, res: Parameters<Parameters<typeof startServer>[0]>[1]): void {
  if (url === '/sessions') return sendJson(res, 200, example('session_initial'));
  if (url.endsWith('/login')) return sendJson(res, 200, example('session_awaiting_sms'));
  if (url.startsWith('/sessions/') && url.includes('/verifications/')) {
    const answer = JSON.parse(body) as { challenge_response?: string };
    return sendJson(res, 200, example(answer.challenge_response ? 'session_verification_succeeded_chained' : 'session_verification_succeeded'));
  }
  if (url.endsWith('/bank_accounts')) return sendJson(res, 200, example('bank_accounts_test'));
  if (url.endsWith('/transfers') && method === 'POST') return sendJson(res, 200, example('transfer_awaiting_sms'));
  if (url.startsWith('/transfers/') && url.includes('/verifications/')) return sendJson(res, 200, example('transfer_verification_succeeded'));
  if (url.startsWith('/transfers/')) return sendJson(res, 200, example('transfer_succeeded'));
  if (url.startsWith('/sessions/')) return sendJson(res, 200, example('session_connected'));
  sendJson(res, 404, { object: 'error', message: 'unknown' });
}

beforeAll(async () => {
  server = await startServer((req, res, body) => {
    const ECHO = echoOf(req, body);
    switch (mode) {
      case 'ok':
        return respondOk(req.method ?? '', req.url ?? '', body, res);
      case 'reject':
        return sendJson(res, 422, { object: 'error', message: `Rejected ${ECHO}` });
      case 'server':
        return sendJson(res, 503, { object: 'error', message: `Unavailable ${ECHO}` });
      case 'contract':
        // an unknown status alone is tolerated drift; a created_at that is no date is a contract failure
        return sendJson(res, 200, { object: 'session', id: SES, status: ECHO, created_at: ECHO, secret: ECHO });
      case 'not-json':
        return res.writeHead(200, { 'content-type': 'text/plain' }).end(ECHO);
      case 'drop':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '10000' });
        return void res.write(`{"echo":${JSON.stringify(ECHO)}`, () => setTimeout(() => req.socket.destroy(), 10));
      case 'hang':
        return;
    }
  });
  const capture =
    (level: string) =>
    (obj: Record<string, unknown>, msg: string): void => {
      logged.push(`${level} ${msg} ${JSON.stringify(obj)} ${inspect(obj, { depth: 10, showHidden: true })}`);
    };
  client = createVerifyClient({
    baseUrl: server.url,
    secretKey: SECRET_KEY,
    publicKey: PUBLIC_KEY,
    bankId: 'test_bank',
    timeoutMs: 300,
    retries: 2,
    logger: { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') },
    onCall: (event) => logged.push(`onCall ${JSON.stringify(event)}`),
  });
});

afterAll(async () => {
  await client?.close();
  await server?.close();
});

/** Runs fn while capturing process.stdout/stderr writes; keeps any thrown error. */
async function captured<T>(fn: () => Promise<T>): Promise<T | undefined> {
  const write = (chunk: unknown): boolean => {
    printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(write as typeof process.stdout.write);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(write as typeof process.stderr.write);
  try {
    return await fn();
  } catch (error) {
    errors.push(error);
    return undefined;
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** The full journey: session, login with OTP then questions, accounts, transfer with OTP, outcome. */
async function journey(): Promise<void> {
  await captured(() => client.createSession({ currency: 'BHD', amount: 100, description: 'NA' }));
  const session = await captured(() => client.login(SES, { credentials: { login: LOGIN, password: PASSWORD } }));
  const vrf = session?.verification?.id ?? 'vrf_zGf5ZH3LzXDz';
  const chained = await captured(() => client.submitVerification({ type: 'session', sessionId: SES }, vrf, { challenge_response: OTP }));
  const next = (chained?.verifiable as { verification?: { id: string } } | undefined)?.verification?.id ?? 'vrf_ZhNRoP5eLx60';
  await captured(() => client.submitVerification({ type: 'session', sessionId: SES }, next, { answers: ANSWERS }));
  await captured(() => client.getSession(SES));
  const accounts = await captured(() => client.listBankAccounts(SES));
  const transfer = await captured(() => client.createTransfer(SES, { source: accounts?.[0]?.id ?? BA }));
  const tr = transfer?.id ?? 'tr_F2sqeKZa8ppl';
  await captured(() =>
    client.submitVerification({ type: 'transfer', transferId: tr }, transfer?.verification?.id ?? 'vrf_gWHiYgmdX6cM', { challenge_response: OTP }),
  );
  await captured(() =>
    client.submitVerification({ type: 'transfer', transferId: tr }, 'vrf_Tx8cKp4NwY1d', { answers: ANSWERS }),
  );
  await captured(() => client.getTransfer(tr));
}

describe('log safety', () => {
  it('a successful journey succeeds and logs operations, statuses and ids only', async () => {
    mode = 'ok';
    const before = errors.length;
    await journey();
    expect(errors.slice(before)).toEqual([]);
    expect(logged.some((l) => l.includes('"operation":"loginSession"') && l.includes(SES))).toBe(true);
    expect(logged.some((l) => l.includes('"operation":"submitTransferVerification"') && l.includes('"status":200'))).toBe(true);
  });

  for (const failing of ['reject', 'server', 'contract', 'not-json', 'drop', 'hang'] as const) {
    it(`a journey where Verify answers "${failing}" fails with VerifyErrors only`, async () => {
      mode = failing;
      const before = errors.length;
      await journey();
      const thrown = errors.slice(before);
      expect(thrown.length).toBeGreaterThanOrEqual(9);
      for (const e of thrown) expect(e).toBeInstanceOf(VerifyError);
    });
  }

  it('no key, credential, OTP or answer appears in logs, output or errors', () => {
    expect(logged.length).toBeGreaterThan(50);
    expect(errors.length).toBeGreaterThan(50);
    const rejected = errors.find((e) => (e as VerifyError).kind === 'rejected') as VerifyError;
    expect(rejected.verifyMessage).toContain('[redacted]');
    const haystacks = [
      ...logged,
      ...printed,
      ...errors.flatMap((e) => {
        const err = e as Error;
        return [err.message, String(err), err.stack ?? '', JSON.stringify(err), inspect(err, { depth: 10, showHidden: true })];
      }),
    ];
    for (const text of haystacks) {
      for (const secret of SECRETS) expect(text, 'a secret leaked').not.toContain(secret);
    }
  });
});
