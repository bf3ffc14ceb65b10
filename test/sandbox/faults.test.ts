/**
 * Fault injection (latency, status, drop, malformed, afterHandler, times, '*'), call
 * statistics, and the control endpoint that drives both from another process.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FaultController, MALFORMED_BODY, parseFault } from '../../src/sandbox/faults.js';
import { SK, startSandbox, type Running } from './harness.js';
import { specViolations } from './spec-validator.js';

let run: Running;
beforeAll(async () => {
  run = await startSandbox({ controlEndpoint: true });
});
afterAll(async () => {
  await run.close();
});
beforeEach(() => run.sandbox.reset());

const api = () => run.client;
const faults = () => run.sandbox.faults;
const stats = () => run.sandbox.stats;

async function control(method: string, path: string, body?: unknown) {
  const res = await fetch(`${run.base}/__sandbox${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The transfers of a session, read with faults out of the way. */
async function transfersOf(sessionId: string) {
  return (await api().listSessionTransfers(sessionId)).body as { id: string; status: string }[];
}

describe('fault injection', () => {
  it('latencyMs delays the answer, then the call works normally', async () => {
    faults().set('listBanks', { latencyMs: 300 });
    const started = performance.now();
    const res = await api().listBanks();
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(res.status).toBe(200);
    expect(faults().get('listBanks')).toEqual({ latencyMs: 300 });
    faults().clear('listBanks');
    expect(faults().get('listBanks')).toBeUndefined();
    expect((await api().listBanks()).status).toBe(200);
  });

  it('status answers an error body without doing the work', async () => {
    const s = await api().connectedSession('test');
    faults().set('createTransfer', { status: 503 });
    const res = await api().createTransfer(s.id, s.account('AED').id);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ object: 'error', message: 'The bank is temporarily unavailable. Please try again later.' });
    expect(res.headers.get('x-sandbox-fault')).toBe('status');
    faults().set('createTransfer', { status: 500 });
    expect((await api().createTransfer(s.id, s.account('AED').id)).status).toBe(500);
    faults().set('createTransfer', { status: 422 });
    expect((await api().createTransfer(s.id, s.account('AED').id)).status).toBe(422);
    faults().clear();
    expect(await transfersOf(s.id)).toEqual([]);
  });

  it('drop destroys the connection before the work', async () => {
    const s = await api().connectedSession('test');
    faults().set('createTransfer', { drop: true });
    await expect(api().createTransfer(s.id, s.account('AED').id)).rejects.toThrow(/fetch failed/);
    faults().clear();
    expect(await transfersOf(s.id)).toEqual([]);
  });

  it('drop + afterHandler loses the answer after the side effect (transfer made, balance debited)', async () => {
    const s = await api().connectedSession('test', { currency: 'AED', amount: 400 });
    faults().set('createTransfer', { drop: true, afterHandler: true });
    await expect(api().createTransfer(s.id, s.account('AED').id)).rejects.toThrow(/fetch failed/);
    faults().clear();
    const found = await transfersOf(s.id);
    expect(found).toHaveLength(1);
    expect(found[0]!.status).toBe('succeeded');
    // The client may confirm it and must not send it again: a second attempt is refused.
    expect((await api().createTransfer(s.id, s.account('AED').id)).status).toBe(422);
    const next = await api().connectedSession('test');
    expect(next.account('AED').balance).toBe(600);
  });

  it('malformed answers 200 with a body that breaks the spec, without the work', async () => {
    const s = await api().connectedSession('test');
    faults().set('createTransfer', { malformed: true });
    const res = await api().createTransfer(s.id, s.account('AED').id, { unchecked: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(MALFORMED_BODY));
    expect(specViolations('createTransfer', 200, res.body)).toBeDefined();
    faults().clear();
    expect(await transfersOf(s.id)).toEqual([]);
  });

  it('malformed + afterHandler does the work, then corrupts the answer (also for error answers)', async () => {
    const s = await api().connectedSession('test');
    faults().set('createTransfer', { malformed: true, afterHandler: true });
    const res = await api().createTransfer(s.id, s.account('AED').id, { unchecked: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 42 });
    expect(res.headers.get('x-sandbox-fault')).toBe('malformed-after-handler');
    const second = await api().createTransfer(s.id, s.account('AED').id, { unchecked: true });
    expect(second.status).toBe(200);
    faults().clear();
    expect(await transfersOf(s.id)).toHaveLength(1);
  });

  it('malformed bodies break every operation\'s 200 schema', () => {
    for (const op of ['listBanks', 'createSession', 'getSession', 'loginSession', 'listBankAccounts', 'createTransfer', 'listSessionTransfers', 'getSessionTransfer', 'getTransfer', 'submitSessionVerification', 'submitTransferVerification']) {
      expect(specViolations(op, 200, JSON.parse(MALFORMED_BODY)), op).toBeDefined();
    }
  });

  it('times applies a fault to the next N calls only', async () => {
    faults().set('listBanks', { status: 500, times: 2 });
    expect((await api().listBanks()).status).toBe(500);
    expect(faults().get('listBanks')).toEqual({ status: 500, times: 1 });
    expect((await api().listBanks()).status).toBe(500);
    expect(faults().get('listBanks')).toBeUndefined();
    expect((await api().listBanks()).status).toBe(200);
  });

  it("'*' applies to every operation; an operation's own fault wins", async () => {
    faults().set('*', { status: 503 });
    faults().set('listBanks', { status: 500 });
    expect((await api().listBanks()).status).toBe(500);
    expect((await api().createSession({ currency: 'AED', amount: 1 })).status).toBe(503);
    expect((await api().getTransfer('tr_AAAAAAAAAAAA')).status).toBe(503);
    faults().clear('*');
    expect((await api().createSession({ currency: 'AED', amount: 1 })).status).toBe(200);
    expect((await api().listBanks()).status).toBe(500);
    faults().clear();
    expect((await api().listBanks()).status).toBe(200);
  });

  it('faults apply before the key check (an outage answers whatever the key)', async () => {
    faults().set('listBanks', { status: 503, times: 1 });
    expect((await api().listBanks({ key: null })).status).toBe(503);
    expect((await api().listBanks({ key: null })).status).toBe(401);
  });

  it('refuses faults that make no sense', () => {
    const c = new FaultController();
    expect(() => c.set('listBanks', {})).toThrow(/no effect/);
    expect(() => c.set('listBanks', { status: 200 })).toThrow(/status/);
    expect(() => c.set('listBanks', { status: 500, drop: true })).toThrow(/exclude/);
    expect(() => c.set('listBanks', { latencyMs: 10, afterHandler: true })).toThrow(/afterHandler/);
    expect(() => c.set('listBanks', { drop: true, times: 0 })).toThrow(/times/);
    expect(() => c.set('nope' as 'listBanks', { drop: true })).toThrow(/unknown operationId/);
    expect(() => parseFault({ drop: 'yes' })).toThrow(/boolean/);
    expect(() => parseFault({ drops: true })).toThrow(/unknown fault property/);
    expect(c.list()).toEqual({});
  });
});

describe('call statistics', () => {
  it('counts calls per operationId and in total, whatever the outcome', async () => {
    const s = await api().connectedSession('test_otp');
    // createSession, loginSession, submitSessionVerification, listBankAccounts
    expect(stats().total).toBe(4);
    expect(stats().calls).toMatchObject({ createSession: 1, loginSession: 1, submitSessionVerification: 1, listBankAccounts: 1, createTransfer: 0 });
    await api().createTransfer(s.id, s.account('USD').id); // 400: counted
    await api().getSession(s.id, { key: null }); // 401: counted
    faults().set('listBanks', { status: 503, times: 1 });
    await api().listBanks(); // faulted: counted
    await fetch(`${run.base}/nope`); // not an operation: not counted
    expect(stats().calls.createTransfer).toBe(1);
    expect(stats().calls.getSession).toBe(1);
    expect(stats().calls.listBanks).toBe(1);
    expect(stats().total).toBe(7);
    stats().reset();
    expect(stats().total).toBe(0);
    expect(Object.values(stats().calls).every((n) => n === 0)).toBe(true);
  });
});

describe('control endpoint', () => {
  it('sets, lists and clears faults at run time', async () => {
    const put = await control('PUT', '/faults/createSession', { status: 503, times: 1 });
    expect(put).toEqual({ status: 200, body: { operationId: 'createSession', fault: { status: 503, times: 1 } } });
    expect((await control('GET', '/faults')).body).toEqual({ faults: { createSession: { status: 503, times: 1 } } });
    expect((await api().createSession({ currency: 'AED', amount: 1 })).status).toBe(503);
    expect((await api().createSession({ currency: 'AED', amount: 1 })).status).toBe(200);

    expect((await control('PUT', '/faults/*', { latencyMs: 50 })).status).toBe(200);
    expect((await control('PUT', `/faults/${encodeURIComponent('*')}`, { latencyMs: 60 })).body.fault).toEqual({ latencyMs: 60 });
    expect((await control('PUT', '/faults/listBanks', { malformed: true })).status).toBe(200);
    expect((await control('DELETE', '/faults/listBanks')).body).toEqual({ faults: { '*': { latencyMs: 60 } } });
    expect((await control('DELETE', '/faults')).body).toEqual({ faults: {} });
    expect(faults().list()).toEqual({});
  });

  it('refuses invalid faults (400) and unknown operations (404)', async () => {
    const bad = await control('PUT', '/faults/listBanks', { status: 200 });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ object: 'error', message: 'Invalid fault: status must be an integer from 400 to 599' });
    expect((await control('PUT', '/faults/listBanks', [1])).status).toBe(400);
    const unknown = await control('PUT', '/faults/deleteEverything', { status: 500 });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe('No such operationId: deleteEverything');
  });

  it('reports stats and resets everything', async () => {
    const s = await api().connectedSession('test', { currency: 'AED', amount: 500 });
    await api().createTransfer(s.id, s.account('AED').id);
    const before = await control('GET', '/stats');
    expect(before.body.total).toBe(4);
    expect(before.body.calls).toMatchObject({ createSession: 1, loginSession: 1, listBankAccounts: 1, createTransfer: 1, listBanks: 0 });
    await control('PUT', '/faults/listBanks', { status: 500 });
    expect((await control('POST', '/reset')).status).toBe(204);
    expect((await control('GET', '/stats')).body.total).toBe(0);
    expect((await control('GET', '/faults')).body).toEqual({ faults: {} });
    expect((await api().getSession(s.id, { key: SK })).status).toBe(404);
    expect((await api().connectedSession('test')).account('AED').balance).toBe(1000);
  });
});
