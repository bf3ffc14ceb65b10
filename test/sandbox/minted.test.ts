/**
 * Minted test customers (`test+42` behaves as `test`, with accounts of its own), the
 * log-normal latency fault, and the inspection the conversation benchmark relies on
 * (debits per login, client sockets).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Agent, fetch as undiciFetch } from 'undici';
import { accountTemplatesOf, testUserOf } from '../../src/sandbox/fixtures.js';
import { drawLatencyMs, parseFault } from '../../src/sandbox/faults.js';
import { startSandbox, type Running } from './harness.js';

let run: Running;
beforeAll(async () => {
  run = await startSandbox({ controlEndpoint: true });
});
afterAll(async () => {
  await run.close();
});
beforeEach(() => run.sandbox.reset());
const api = () => run.client;

/** ISO 13616: the IBAN moved 4 characters, letters as numbers, mod 97 is 1. */
function ibanValid(iban: string): boolean {
  const digits = `${iban.slice(4)}${iban.slice(0, 4)}`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rest = 0;
  for (const d of digits) rest = (rest * 10 + Number(d)) % 97;
  return rest === 1;
}

describe('minted test customers', () => {
  it('reads login+n as the documented user it is minted from, and nothing else', () => {
    expect(testUserOf('test')).toMatchObject({ user: { login: 'test' }, variant: 0 });
    expect(testUserOf('test+42')).toMatchObject({ user: { login: 'test' }, variant: 42 });
    expect(testUserOf('test_transfer_otp+7')).toMatchObject({ user: { login: 'test_transfer_otp', onTransfer: 'sms' }, variant: 7 });
    for (const bad of ['test+0', 'test+07', 'test+', 'test+1+2', 'nobody+1', 'test+-1', 'test+1234567890', ' test+1', 'TEST+1']) {
      expect(testUserOf(bad), bad).toBeUndefined();
    }
  });

  it('gives each minted customer its own account numbers and valid IBANs', () => {
    const base = accountTemplatesOf(0);
    const a = accountTemplatesOf(42);
    const b = accountTemplatesOf(999_999_999);
    expect(a.map((t) => t.currency)).toEqual(base.map((t) => t.currency));
    expect(a.map((t) => t.number)).toEqual(['9000000000423456', '9000000000423457', '9000000000423458']);
    const all = [...base, ...a, ...b].map((t) => t.iban);
    expect(new Set(all).size).toBe(9);
    for (const iban of [...a, ...b].map((t) => t.iban)) {
      expect(iban).toMatch(/^AE\d{2}033\d{16}$/);
      expect(ibanValid(iban), iban).toBe(true);
    }
  });

  it('behaves like its base user: test_otp+7 needs the sms code, test+42 connects at once', async () => {
    const otp = await api().createSession({ currency: 'AED', amount: 100 });
    const login = await api().login(otp.body.id, 'test_otp+7');
    expect(login.body.status).toBe('pending_verification');
    expect(login.body.verification.type).toBe('sms');
    const plain = await api().createSession({ currency: 'AED', amount: 100 });
    expect((await api().login(plain.body.id, 'test+42')).body.status).toBe('connected');
    const failing = await api().createSession({ currency: 'AED', amount: 100 });
    expect((await api().login(failing.body.id, 'test+42', 'wrong')).body.status).toBe('failed');
    const unknown = await api().createSession({ currency: 'AED', amount: 100 });
    expect((await api().login(unknown.body.id, 'nobody+1')).body.status).toBe('failed');
  });

  it('keeps balances apart: a transfer of test+1 moves neither test nor test+2', async () => {
    const one = await api().connectedSession('test+1', { currency: 'AED', amount: 300 });
    const moved = await api().createTransfer(one.id, one.account('AED').id);
    expect(moved.body.status).toBe('succeeded');
    const after = async (login: string) => (await api().connectedSession(login)).account('AED');
    expect((await after('test+1')).balance).toBe(700);
    expect((await after('test+2')).balance).toBe(1000);
    expect((await after('test')).balance).toBe(1000);
    expect((await after('test+1')).iban).toBe(accountTemplatesOf(1)[0]!.iban);
    expect(run.sandbox.state.debits()).toEqual({
      'test+1': { debits: 1, debitedMinor: 300, balances: Object.fromEntries(accountTemplatesOf(1).map((t, i) => [t.iban, i === 0 ? 700 : 1000])) },
    });
  });

  it('debits a test_transfer_otp+n transfer once, after the code, and reports it on /__sandbox/debits', async () => {
    const s = await api().connectedSession('test_transfer_otp+3', { currency: 'AED', amount: 250 });
    const transfer = await api().createTransfer(s.id, s.account('AED').id);
    expect(transfer.body.status).toBe('pending_verification');
    const v = transfer.body.verification.id;
    expect(run.sandbox.state.debits()).toEqual({});
    await api().submitTransferVerification(transfer.body.id, v, { challenge_response: '1234' });
    await api().submitTransferVerification(transfer.body.id, v, { challenge_response: '1234' }); // answered again, no second debit
    const res = await fetch(`${run.base}/__sandbox/debits`);
    const debits = (await res.json()) as Record<string, { debits: number; debitedMinor: number }>;
    expect(debits['test_transfer_otp+3']).toMatchObject({ debits: 1, debitedMinor: 250 });
  });
});

describe('log-normal latency fault', () => {
  it('draws with the asked median and p99', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31); // deterministic
    const xs = Array.from({ length: 20_000 }, () => drawLatencyMs(250, 1200, random)).sort((a, b) => a - b);
    const q = (p: number) => xs[Math.floor(p * (xs.length - 1))]!;
    expect(q(0.5)).toBeGreaterThan(235);
    expect(q(0.5)).toBeLessThan(265);
    expect(q(0.99)).toBeGreaterThan(1000);
    expect(q(0.99)).toBeLessThan(1450);
    expect(xs[0]).toBeGreaterThan(0);
  });

  it('checks the pair', () => {
    expect(parseFault({ latencyMedianMs: 250, latencyP99Ms: 1200 })).toEqual({ latencyMedianMs: 250, latencyP99Ms: 1200 });
    expect(() => parseFault({ latencyMedianMs: 250 })).toThrow('go together');
    expect(() => parseFault({ latencyMedianMs: 250, latencyP99Ms: 100 })).toThrow('at least');
    expect(() => parseFault({ latencyMedianMs: 250, latencyP99Ms: 300, latencyMs: 5 })).toThrow('exclude');
  });

  it('slows every operation by a drawn latency, through the control endpoint', async () => {
    const put = await fetch(`${run.base}/__sandbox/faults/*`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMedianMs: 60, latencyP99Ms: 80 }),
    });
    expect(put.status).toBe(200);
    const started = performance.now();
    const res = await api().listBanks();
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThan(35);
  });
});

describe('client sockets', () => {
  it('counts open client connections: five calls over a one-connection keep-alive pool are one socket', async () => {
    run.sandbox.stats.reset();
    const before = run.sandbox.stats.snapshot().sockets.open;
    const agent = new Agent({ connections: 1 });
    const call = () => undiciFetch(`${run.base}/banks`, { headers: { authorization: 'Token pk_test_x' }, dispatcher: agent }).then((r) => r.text());
    await Promise.all([call(), call(), call(), call(), call()]);
    const during = run.sandbox.stats.snapshot().sockets;
    expect(during.open).toBe(before + 1);
    expect(during.max).toBe(before + 1);
    await agent.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(run.sandbox.stats.snapshot().sockets).toEqual({ open: before, max: before + 1 });
  });
});
