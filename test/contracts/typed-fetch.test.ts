/**
 * The generated Verify types drive a typed openapi-fetch client end to end against Prism's
 * mock of spec/verify.yaml: create a session (secret key), log in and list the bank
 * accounts (public key). Field types are asserted at run time and, with expectTypeOf, at
 * compile time (`npx tsc --noEmit` covers test/).
 */
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { components, paths } from '../../generated/verify.js';
import { startPrism, type PrismServer } from '../helpers/prism.js';
import { loadSpec } from '../helpers/spec.js';

type Session = components['schemas']['session'];
type BankAccount = components['schemas']['bank_account'];

describe('typed openapi-fetch client against the Verify mock', () => {
  const spec = loadSpec('verify');
  let prism: PrismServer;
  let client: ReturnType<typeof createClient<paths>>;

  beforeAll(async () => {
    prism = await startPrism('spec/verify.yaml');
    client = createClient<paths>({ baseUrl: prism.url });
  });
  afterAll(async () => {
    await prism?.stop();
  });

  it('creates a session, logs in and lists bank accounts', async () => {
    const created = await client.POST('/sessions', {
      headers: { Authorization: 'Token sk_test_x' },
      body: { currency: 'AED', amount: 10_000, description: 'Order 42' },
    });
    expect(created.response.status).toBe(200);
    expect(created.error).toBeUndefined();
    const session = created.data!;
    expectTypeOf(session).toEqualTypeOf<Session>();
    expectTypeOf(session.id).toBeString();
    expectTypeOf(session.status).toEqualTypeOf<'initial' | 'pending_verification' | 'connected' | 'failed' | 'completed'>();
    expect(session).toMatchObject({ object: 'session', status: 'initial' });
    expect(session.id).toMatch(/^ses_[A-Za-z0-9]{12}$/);
    spec.assertResponse('/sessions', 'post', 200, session);

    const login = await client.POST('/sessions/{session_id}/login', {
      params: { path: { session_id: session.id } },
      headers: { Authorization: 'Token pk_test_x' },
      body: { bank_id: 'test_bank', credentials: { login: 'test', password: 'test_pass' } },
    });
    expect(login.response.status).toBe(200);
    const loggedIn = login.data!;
    expectTypeOf(loggedIn.verification).toEqualTypeOf<components['schemas']['verification'] | undefined>();
    expect(loggedIn.status).toBe('connected');

    const accounts = await client.GET('/sessions/{session_id}/bank_accounts', {
      params: { path: { session_id: session.id } },
      headers: { Authorization: 'Token pk_test_x' },
    });
    expect(accounts.response.status).toBe(200);
    const list = accounts.data!;
    expectTypeOf(list).toEqualTypeOf<BankAccount[]>();
    expectTypeOf(list[0]!.iban).toBeString();
    expectTypeOf(list[0]!.balance).toBeNumber();
    expectTypeOf(list[0]!.type).toEqualTypeOf<'current' | 'savings'>();
    expect(list.length).toBeGreaterThan(0);
    const first = list[0]!;
    expect(typeof first.iban).toBe('string');
    expect(first.iban.length).toBeLessThanOrEqual(34);
    expect(Number.isInteger(first.balance)).toBe(true);
    expect(first.currency).toMatch(/^[A-Z]{3}$/);
    expect(list.map((a) => a.currency).sort()).toEqual(['AED', 'BHD', 'USD']);
    spec.assertResponse('/sessions/{session_id}/bank_accounts', 'get', 200, list);
  });

  it('types error bodies from the contract', async () => {
    const res = await client.GET('/sessions/{session_id}', {
      params: { path: { session_id: 'ses_rDCKbNpZhfzF' } },
      headers: { Authorization: 'Token sk_test_x', Prefer: 'code=404' },
    });
    expect(res.response.status).toBe(404);
    expect(res.data).toBeUndefined();
    expectTypeOf(res.error).toEqualTypeOf<components['schemas']['error'] | undefined>();
    expect(res.error).toEqual({ object: 'error', message: 'No such session: ses_rDCKbNpZhfzF' });
  });

  it('rejects, at compile time, calls the contract does not allow', () => {
    // Never executed: the @ts-expect-error lines must each be a type error for tsc to pass.
    const neverRun = () => {
      // @ts-expect-error amount is an integer of minor units, not a string
      void client.POST('/sessions', { body: { currency: 'AED', amount: '100.00' } });
      // @ts-expect-error the path parameter session_id is required
      void client.GET('/sessions/{session_id}/bank_accounts', {});
      // @ts-expect-error there is no such path
      void client.GET('/accounts');
    };
    expect(typeof neverRun).toBe('function');
  });
});
