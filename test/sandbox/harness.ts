/**
 * Test harness for the Verify sandbox: a sandbox listening on 127.0.0.1:0, and a small
 * fetch client that names the operation of every call and checks every answer against
 * spec/verify.yaml's response schema for that operation and status.
 */
import qs from 'qs';
import { buildSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/app.js';
import type { OperationId } from '../../src/sandbox/types.js';
import { assertMatchesSpec } from './spec-validator.js';

export const SK = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc';
export const PK = 'pk_test_TYooMQauvdEDq54NiTphI7jx';

export interface Running {
  sandbox: Sandbox;
  base: string;
  client: Client;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Running> {
  const sandbox = await buildSandbox(options);
  const base = await sandbox.app.listen({ host: '127.0.0.1', port: 0 });
  return { sandbox, base, client: new Client(base), close: () => sandbox.app.close() };
}

export interface CallOptions {
  /** The key to send; `null` sends no Authorization header. */
  key?: string | null;
  scheme?: 'Token' | 'Bearer';
  json?: unknown;
  /** A form body: an object (encoded with qs, brackets for arrays) or a ready string. */
  form?: Record<string, unknown> | string;
  headers?: Record<string, string>;
  /** Skip the spec check (only for answers that are meant to break it, e.g. malformed faults). */
  unchecked?: boolean;
}

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class Client {
  constructor(readonly base: string) {}

  /** One call to an operation of the spec; the answer is checked against the spec. */
  async call<T = any>(operationId: OperationId, method: string, path: string, options: CallOptions = {}): Promise<Answer<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const key = options.key === undefined ? defaultKey(operationId) : options.key;
    if (key !== null) headers['authorization'] = `${options.scheme ?? 'Token'} ${key}`;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form !== undefined) {
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
      body = typeof options.form === 'string' ? options.form : qs.stringify(options.form, { arrayFormat: 'brackets' });
    }
    const res = await fetch(`${this.base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    if (!options.unchecked) assertMatchesSpec(operationId, res.status, parsed);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  listBanks(o?: CallOptions) {
    return this.call('listBanks', 'GET', '/banks', o);
  }
  createSession(input: { currency: string; amount: number; description?: string }, o: CallOptions = {}) {
    return this.call('createSession', 'POST', '/sessions', o.form === undefined && o.json === undefined ? { ...o, json: input } : o);
  }
  getSession(id: string, o?: CallOptions) {
    return this.call('getSession', 'GET', `/sessions/${id}`, o);
  }
  login(id: string, login: string, password = 'test_pass', o: CallOptions = {}) {
    const input = { bank_id: 'test_bank', credentials: { login, password } };
    return this.call('loginSession', 'POST', `/sessions/${id}/login`, o.form === undefined && o.json === undefined ? { ...o, json: input } : o);
  }
  listBankAccounts(id: string, o?: CallOptions) {
    return this.call('listBankAccounts', 'GET', `/sessions/${id}/bank_accounts`, o);
  }
  createTransfer(id: string, source: string, o: CallOptions = {}) {
    return this.call('createTransfer', 'POST', `/sessions/${id}/transfers`, o.form === undefined && o.json === undefined ? { ...o, json: { source } } : o);
  }
  listSessionTransfers(id: string, o?: CallOptions) {
    return this.call('listSessionTransfers', 'GET', `/sessions/${id}/transfers`, o);
  }
  getSessionTransfer(id: string, transferId: string, o?: CallOptions) {
    return this.call('getSessionTransfer', 'GET', `/sessions/${id}/transfers/${transferId}`, o);
  }
  getTransfer(transferId: string, o?: CallOptions) {
    return this.call('getTransfer', 'GET', `/transfers/${transferId}`, o);
  }
  submitSessionVerification(id: string, vrf: string, answer: { challenge_response?: string; answers?: string[] }, o: CallOptions = {}) {
    return this.call('submitSessionVerification', 'PUT', `/sessions/${id}/verifications/${vrf}`, o.form === undefined && o.json === undefined ? { ...o, json: answer } : o);
  }
  submitTransferVerification(id: string, vrf: string, answer: { challenge_response?: string; answers?: string[] }, o: CallOptions = {}) {
    return this.call('submitTransferVerification', 'PUT', `/transfers/${id}/verifications/${vrf}`, o.form === undefined && o.json === undefined ? { ...o, json: answer } : o);
  }

  // ── composite steps ──

  /** A new session logged in (and verified if asked) to `connected`. */
  async connectedSession(login: string, terms: { currency: string; amount: number; description?: string } = { currency: 'AED', amount: 100 }) {
    const session = await this.createSession(terms);
    if (session.status !== 200) throw new Error(`createSession ${session.status}`);
    const id: string = session.body.id;
    let current = (await this.login(id, login)).body;
    for (let guard = 0; current.status === 'pending_verification' && guard < 3; guard++) {
      const v = current.verification;
      const answer = v.type === 'sms' ? { challenge_response: '1234' } : { answers: ['ruby', 'vim'] };
      current = (await this.submitSessionVerification(id, v.id, answer)).body.verifiable;
    }
    if (current.status !== 'connected') throw new Error(`session for ${login} is ${current.status}`);
    const accounts = (await this.listBankAccounts(id)).body as { id: string; currency: string; iban: string; balance: number }[];
    return { id, accounts, account: (currency: string) => accounts.find((a) => a.currency === currency)! };
  }
}

function defaultKey(operationId: OperationId): string {
  return ['createSession', 'getSession', 'getTransfer', 'listSessionTransfers', 'getSessionTransfer'].includes(operationId) ? SK : PK;
}
