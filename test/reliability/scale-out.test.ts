/**
 * Scale-out with real processes: two connectors (src/server.ts) on ONE PostgreSQL database
 * and one standalone Verify sandbox. A token issued by one works on the other; the same
 * transfer retried alternately or concurrently on both moves money once; the OTP failure
 * count is shared; and when a third instance dies with transfers in flight, the two
 * survivors' reconciliations (every second, each) share the work under leases: every
 * movement is handled exactly once.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, postgresRequired, testPostgresUrl } from '../helpers/postgres.js';
import { connectorEnv, startConnector, startSandbox, stopAll, type ConnectorProcess, type SandboxProcess } from '../helpers/processes.js';
import { Figures, until } from './support.js';

const T = 300;
const LEASE_MS = 4 * T + 2000;
const available = Boolean(testPostgresUrl()) || postgresRequired;

const figures = new Figures('scale-out', { instances: 2, store: 'PostgreSQL', VERIFY_TIMEOUT_MS: T, leaseMs: LEASE_MS, RECONCILE_INTERVAL_SECONDS: 1, OTP_MAX_ATTEMPTS: 2 });

describe.skipIf(!available)('two connectors on one PostgreSQL', () => {
  let drop: (() => Promise<void>) | undefined;
  let dbUrl: string;
  let sandbox: SandboxProcess;
  let a: ConnectorProcess;
  let b: ConnectorProcess;
  let env: Record<string, string>;
  let who: { userId: string; token: string; aed: string; usd: string };

  beforeAll(async () => {
    const db = await createDatabase();
    drop = db.drop;
    dbUrl = db.url;
    sandbox = await startSandbox();
    // OTP_MAX_ATTEMPTS=2 (Verify's own limit is 3): a 453 on the second wrong OTP can only come from the shared count
    env = connectorEnv(sandbox.url, db.url, { VERIFY_TIMEOUT_MS: String(T), VERIFY_BUDGET_MS: '60000', RECONCILE_INTERVAL_SECONDS: '1', OTP_MAX_ATTEMPTS: '2', CIRCUIT_FAILURE_THRESHOLD: '100000' });
    a = await startConnector(env); // first alone: it creates the schema
    b = await startConnector(env);
    const { userId, token } = await a.signIn('test');
    const accounts = (await a.call('accounts', { user_id: userId }, { token })).body as { account_id: string; currency_code: string }[];
    who = { userId, token, aed: accounts.find((x) => x.currency_code === 'AED')!.account_id, usd: accounts.find((x) => x.currency_code === 'USD')!.account_id };
  }, 90_000);

  afterAll(async () => {
    await stopAll();
    await drop?.();
    figures.write();
  });

  const transfer = (minor: number) => ({ user_id: who.userId, source_account_id: who.aed, dest_account_id: who.usd, amount: minor / 100 });

  it('a token issued by one instance works on the other', async () => {
    const onB = await b.call('accounts', { user_id: who.userId }, { token: who.token });
    expect(onB.status).toBe(200);
    expect(onB.body).toHaveLength(3);
    const fromB = await b.signIn('test');
    const onA = await a.call('customer', { user_id: fromB.userId }, { token: fromB.token });
    expect(onA.status).toBe(200);
    expect(onA.body.user_id).toBe(who.userId);
    figures.add({ name: 'token from A on B, and from B on A', kind: 'scale-out', call: '/token, /accounts, /customer', status: 200, outcome: 'accepted on the other instance' });
  });

  it('the same transfer retried alternately on both moves money once', async () => {
    const minor = 21;
    const before = await sandbox.balances('test');
    const created = (await sandbox.stats()).calls.createTransfer;
    await sandbox.setFault('loginSession', { latencyMs: Math.round(T / 2), times: 1 }); // A is still driving it when B gets the retry
    const first = a.call('transfer', transfer(minor), { token: who.token });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const answers = [await b.call('transfer', transfer(minor), { token: who.token }), await first];
    for (const on of [a, b, a, b]) answers.push(await on.call('transfer', transfer(minor), { token: who.token }));
    await sandbox.clearFaults();
    for (const res of answers) expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(new Set(answers.map((r) => r.body.transfer_id)).size).toBe(1);
    expect(answers.every((r) => r.body.status === 'processed')).toBe(true);
    expect((await sandbox.stats()).calls.createTransfer - created).toBe(1);
    expect(before['AED']! - (await sandbox.balances('test'))['AED']!).toBe(minor);
    figures.add({ name: 'one transfer, 6 tries alternating A/B (the first two overlapping)', kind: 'scale-out', call: '/transfer', status: 200, outcome: 'one transfer_id everywhere, createTransfer sent once, debited once' });
  });

  it('10 identical requests at once, split across both, move money once', async () => {
    const minor = 22;
    const before = await sandbox.balances('test');
    const created = (await sandbox.stats()).calls.createTransfer;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? b : a).call('transfer', transfer(minor), { token: who.token })));
    for (const res of answers) expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(new Set(answers.map((r) => r.body.transfer_id)).size).toBe(1);
    expect((await sandbox.stats()).calls.createTransfer - created).toBe(1);
    expect(before['AED']! - (await sandbox.balances('test'))['AED']!).toBe(minor);
    figures.add({ name: '10 identical /transfer at once, 5 on A and 5 on B', kind: 'scale-out', call: '/transfer', status: 200, outcome: 'one transfer_id, createTransfer sent once, debited once' });
  });

  it('the OTP failure count is shared: a wrong OTP on A, the next on B → 453', async () => {
    const first = await a.signIn('test_otp');
    const wrongOnA = await a.call('validate_otp', { user_id: first.userId, otp: '0000' }, { token: first.token });
    expect(wrongOnA.status).toBe(451);
    expect(wrongOnA.body.message).toMatch(/1 attempt/);
    const wrongOnB = await b.call('validate_otp', { user_id: first.userId, otp: '0000' }, { token: first.token });
    expect(wrongOnB.status, JSON.stringify(wrongOnB.body)).toBe(453);
    expect(wrongOnB.body.message).toMatch(/too many/i);
    expect((await a.call('accounts', { user_id: first.userId }, { token: first.token })).status).toBe(403);

    // and the pending verification itself is shared: wrong on A, right on B
    const second = await a.signIn('test_otp');
    expect((await a.call('validate_otp', { user_id: second.userId, otp: '0000' }, { token: second.token })).status).toBe(451);
    const right = await b.call('validate_otp', { user_id: second.userId, otp: '1234' }, { token: second.token });
    expect(right.status, JSON.stringify(right.body)).toBe(200);
    expect((await a.call('accounts', { user_id: second.userId }, { token: right.body.token })).status).toBe(200);
    figures.add({ name: 'OTP: wrong on A, wrong on B (OTP_MAX_ATTEMPTS=2)', kind: 'scale-out', call: '/validate_otp', status: 453, outcome: '451 then 453 from the shared count; token ended on both; wrong-on-A then right-on-B signs in' });
  });

  it('when an instance dies with transfers in flight, both survivors reconcile and each movement is handled once', async () => {
    const n = 6;
    const amounts = Array.from({ length: n }, (_, i) => 31 + i);
    const before = await sandbox.balances('test');
    // a third instance that reconciles only at start-up: it is the one that dies
    const c = await startConnector({ ...env, RECONCILE_INTERVAL_SECONDS: '3600' });
    const stats0 = await sandbox.stats();
    await sandbox.setFault('createTransfer', { drop: true, afterHandler: true });
    await sandbox.setFault('listSessionTransfers', { latencyMs: 20_000 });
    const inFlight = amounts.map((minor) => c.call('transfer', transfer(minor), { token: who.token }).catch(() => undefined));
    // every createTransfer made at Verify (its reply then dropped) and its lookup under way; the
    // lookups alone are not enough to count: the client retries them, so n lookups can be fewer movements
    await until(
      'every transfer made at Verify and looked for',
      async () => {
        const calls = (await sandbox.stats()).calls;
        return calls.createTransfer - stats0.calls.createTransfer >= n && calls.listSessionTransfers - stats0.calls.listSessionTransfers >= n ? true : undefined;
      },
      15_000,
      20,
    );
    const killedAt = Date.now();
    await c.proc.kill();
    await Promise.all(inFlight);
    await sandbox.clearFaults();
    expect(before['AED']! - (await sandbox.balances('test'))['AED']!, 'Verify made them all').toBe(amounts.reduce((x, y) => x + y, 0));
    const lookups0 = (await sandbox.stats()).calls.listSessionTransfers;
    // slow lookups (still inside the time limit) so the survivors' runs overlap
    await sandbox.setFault('listSessionTransfers', { latencyMs: 100 });

    const rows = async () => {
      const client = new pg.Client({ connectionString: dbUrl });
      await client.connect();
      try {
        return (await client.query<{ id: string; status: string }>('select id, status from movements where amount_minor = any($1::int[])', [amounts])).rows;
      } finally {
        await client.end();
      }
    };
    const atKill = await rows();
    expect(atKill).toHaveLength(n);
    expect(atKill.every((r) => r.status === 'transfer_requested')).toBe(true);
    const ids = new Set(atKill.map((r) => r.id));
    await until('the survivors to adopt every movement', async () => ((await rows()).every((r) => r.status === 'processed') ? true : undefined), LEASE_MS + 20_000, 100);
    const reconciledMs = Date.now() - killedAt;
    await sandbox.clearFaults();
    const finishedOn = (p: ConnectorProcess) => p.logs().filter((l) => l.msg === 'movement finished').map((l) => String(l.movement));

    // each movement finished once, by one instance; Verify asked once per movement
    const finished = [...finishedOn(a), ...finishedOn(b)].filter((id) => ids.has(id));
    const counts = new Map<string, number>();
    for (const id of finished) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const [id, count] of counts) expect(count, `movement ${id} finished once`).toBe(1);
    expect((await sandbox.stats()).calls.listSessionTransfers - lookups0).toBe(n);
    const adoptedBy = { a: 0, b: 0 };
    for (const l of a.logs()) if (l.msg === 'housekeeping') adoptedBy.a += Number(l.adopted ?? 0);
    for (const l of b.logs()) if (l.msg === 'housekeeping') adoptedBy.b += Number(l.adopted ?? 0);
    expect(adoptedBy.a + adoptedBy.b).toBe(n);

    // the platform's retries, on either survivor, answer the adopted transfers
    for (const [i, minor] of amounts.entries()) {
      const res = await (i % 2 ? a : b).call('transfer', transfer(minor), { token: who.token });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('processed');
    }
    expect(before['AED']! - (await sandbox.balances('test'))['AED']!, 'still moved once each').toBe(amounts.reduce((x, y) => x + y, 0));
    figures.add({
      name: `SIGKILL of a third instance with ${n} transfers made at Verify but not stored`,
      kind: 'reconcile',
      call: 'reconciliation on A and B (every 1 s each)',
      elapsedMs: reconciledMs,
      outcome: `all ${n} adopted ${reconciledMs} ms after the kill (A ${adoptedBy.a}, B ${adoptedBy.b}); each finished once, one Verify lookup each; retries 200 processed; debited once each`,
    });
  }, 60_000);
});
