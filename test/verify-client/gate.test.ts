/** The admission gate in front of the Verify pool (src/adapters/verify/gate.ts). */
import { describe, expect, it } from 'vitest';
import { GateRefused, VerifyGate } from '../../src/adapters/verify/gate.js';

const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('VerifyGate', () => {
  it('serves at most `slots` at once and hands slots over in arrival order', async () => {
    const gate = new VerifyGate({ slots: 2, perKeyMax: 10, initialServiceMs: 10 });
    const deadline = performance.now() + 10_000;
    const r1 = await gate.acquire(undefined, deadline);
    const r2 = await gate.acquire(undefined, deadline);
    const order: number[] = [];
    const p3 = gate.acquire(undefined, deadline).then((r) => (order.push(3), r));
    const p4 = gate.acquire(undefined, deadline).then((r) => (order.push(4), r));
    expect(gate.stats).toMatchObject({ inFlight: 2, queued: 2 });
    r1();
    r1(); // twice is once
    const r3 = await p3;
    expect(gate.stats).toMatchObject({ inFlight: 2, queued: 1 });
    r2();
    const r4 = await p4;
    expect(order).toEqual([3, 4]);
    r3();
    r4();
    expect(gate.stats).toMatchObject({ inFlight: 0, queued: 0, shed: 0 });
  });

  it('refuses at once a call that could not be served before its deadline', async () => {
    const gate = new VerifyGate({ slots: 1, perKeyMax: 10, initialServiceMs: 100 });
    const release = await gate.acquire(undefined, performance.now() + 10_000);
    const started = performance.now();
    await expect(gate.acquire(undefined, performance.now() + 150)).rejects.toMatchObject({ reason: 'deadline' });
    expect(performance.now() - started).toBeLessThan(20);
    expect(gate.stats.shed).toBe(1);
    release();
  });

  it('lets a queued call go before its deadline when no slot came free', async () => {
    const gate = new VerifyGate({ slots: 1, perKeyMax: 10, initialServiceMs: 20 });
    const release = await gate.acquire(undefined, performance.now() + 10_000);
    const started = performance.now();
    const error = await gate.acquire(undefined, performance.now() + 100).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GateRefused);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThan(60); // deadline − expected service
    // refused by its own timer set before the deadline (a loaded machine fires timers late: no tight bound)
    expect(waited).toBeLessThan(1_000);
    expect(gate.stats).toMatchObject({ inFlight: 1, queued: 0, shed: 1 });
    release();
    expect(gate.stats.inFlight).toBe(0);
  });

  it('caps one customer, in flight and queued together, without touching the others', async () => {
    const gate = new VerifyGate({ slots: 3, perKeyMax: 2, initialServiceMs: 10 });
    const deadline = performance.now() + 10_000;
    const a1 = await gate.acquire('a', deadline);
    const a2 = await gate.acquire('a', deadline);
    await expect(gate.acquire('a', deadline)).rejects.toMatchObject({ reason: 'customer_limit' });
    const b1 = await gate.acquire('b', deadline);
    const b2 = gate.acquire('b', deadline); // queued: counts against b
    await expect(gate.acquire('b', deadline)).rejects.toMatchObject({ reason: 'customer_limit' });
    a1();
    (await b2)();
    const a3 = await gate.acquire('a', deadline); // a's share is back
    a2();
    a3();
    b1();
    expect(gate.stats).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('learns the service time from finished attempts', async () => {
    const gate = new VerifyGate({ slots: 1, perKeyMax: 1, initialServiceMs: 10 });
    for (let i = 0; i < 100; i++) gate.observe(250);
    expect(gate.expectedServiceMs).toBeGreaterThan(240);
    const release = await gate.acquire(undefined, performance.now() + 10_000);
    // one ahead at 250 ms each: 400 ms is not enough any more
    await expect(gate.acquire(undefined, performance.now() + 400)).rejects.toBeInstanceOf(GateRefused);
    await later(1);
    release();
  });
});
