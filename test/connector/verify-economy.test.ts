/**
 * Verify economy: a whole conversation (sign-in, customer, accounts, transactions, a
 * transfer with an OTP and the platform's retry) makes exactly the Verify calls the design
 * needs, no more. The minimum and its derivation live in scripts/bench/conversation.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINIMUM, MINIMUM_TOTAL, runConversation } from '../../scripts/bench/conversation.js';
import { startTestConnector, type TestConnector } from '../helpers/connector.js';

describe('Verify economy of a conversation', () => {
  let c: TestConnector;
  beforeAll(async () => {
    c = await startTestConnector();
  });
  afterAll(async () => {
    await c?.close();
  });

  it('calls Verify no more than the conversation needs', async () => {
    const { turns, total, minimum } = await runConversation(c);
    // per turn first: a failure names the turn that over-calls
    expect(Object.fromEntries(turns.map((t) => [t.step, t.calls]))).toEqual(MINIMUM);
    expect(minimum).toBe(8);
    expect(total).toBe(MINIMUM_TOTAL);
    // the transfer's own session lists its accounts once; the retry lists nothing
    expect(turns.find((t) => t.step === 'transfer (450: OTP needed)')?.verify).toEqual({
      createSession: 1,
      loginSession: 1,
      listBankAccounts: 1,
      createTransfer: 1,
    });
  });
});
