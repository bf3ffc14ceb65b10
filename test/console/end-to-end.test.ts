/**
 * Issue 14's flow against the REAL operator API (not the contract's examples): a settler
 * signs in to the console and finds a customer's transfer, creates a batch and downloads
 * its pain.001; a second settler marks it paid (the two-person rule); the customer's credit
 * then shows `posted` through the Kasisto API.
 *
 * Runs once the operator API (issue 11, src/operator/) is in the tree; skipped before.
 * The connector starts with OPERATOR_PORT=0 and OPERATOR_API_KEYS. When its operator
 * listener serves the console itself (consolePlugin registered, console/README.md), the
 * browser uses that listener; until then the harness's console host serves the console and
 * proxies /operator/v1 to the listener. The test prints which.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestConnector, type TestConnector } from '../helpers/connector.js';
import { PROJECT_ROOT } from '../helpers/prism.js';
import { CHROMIUM, launchBrowser, recordApiRequests, signIn, startConsoleHost, type Browser, type ConsoleHost } from './harness.js';

const operatorApiAvailable = existsSync(join(PROJECT_ROOT, 'src/operator/app.ts')) && existsSync(CHROMIUM);
const KEYS = { alice: 'alice-settler-key-0123456789', bob: 'bob-settler-key-0123456789ab', carol: 'carol-viewer-key-0123456789a' };
// a valid AE IBAN (mod 97) for the operator's own paying account in the pain.001
const DEBTOR_IBAN = 'AE220330000010000000001';

type Account = { account_id: string; currency_code: string };
type Entry = { transaction_id: string; status: string; currency_code: string; transaction_type: string };

describe.skipIf(!operatorApiAvailable)('console end to end against the real operator API', () => {
  let c: TestConnector;
  let host: ConsoleHost | undefined;
  let consoleUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    c = await startTestConnector(
      {
        OPERATOR_PORT: '0',
        OPERATOR_API_KEYS: `alice:settler:${KEYS.alice},bob:settler:${KEYS.bob},carol:viewer:${KEYS.carol}`,
        OPERATOR_DEBTOR_NAME: 'Operator Bank LLC',
        OPERATOR_DEBTOR_IBAN: DEBTOR_IBAN,
      },
      { dailyReconcileCheckMs: 0 } as never,
    );
    const operatorUrl = (c as unknown as { operatorUrl?: string }).operatorUrl;
    if (!operatorUrl) throw new Error('the connector started no operator listener (OPERATOR_PORT)');
    const served = await fetch(`${operatorUrl}/operator/console/`).then((res) => res.status === 200 && /text\/html/.test(res.headers.get('content-type') ?? ''));
    if (served) consoleUrl = operatorUrl;
    else {
      host = await startConsoleHost(`${operatorUrl}/operator/v1`);
      consoleUrl = host.url;
    }
    console.log(`console served by ${served ? 'the operator listener itself' : 'the test console host (proxy to the operator listener)'}`);
    browser = await launchBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await c?.close();
  });

  afterEach(() => expect(browser.problems).toEqual([]));

  it('settler finds the transfer, batches it, downloads the pain.001; a second settler marks it paid; the credit is posted', async () => {
    // the customer moves money through the Kasisto API: USD → AED between own accounts
    const customer = await c.signIn('test');
    const accountsRes = await c.call('accounts', { user_id: customer.userId }, { token: customer.token });
    expect(accountsRes.statusCode, accountsRes.body).toBe(200);
    const accounts = accountsRes.json() as Account[];
    const of = (currency: string) => accounts.find((a) => a.currency_code === currency)!;
    const transfer = await c.call(
      'transfer',
      { user_id: customer.userId, source_account_id: of('USD').account_id, dest_account_id: of('AED').account_id, amount: 1 },
      { token: customer.token },
    );
    expect(transfer.json(), transfer.body).toMatchObject({ status: 'processed' });
    const movementId = transfer.json().transfer_id as string;
    const credit = async () => {
      const res = await c.call('transactions', { user_id: customer.userId, limit: 100 }, { token: customer.token });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as Entry[] | { transactions: Entry[] };
      const all = Array.isArray(body) ? body : body.transactions;
      return all.find((e) => e.transaction_id === `${movementId}-credit`);
    };
    expect((await credit())?.status).toBe('pending');

    // 1. alice (settler) signs in and finds the customer's transfer by username
    const alice = await browser.newPage();
    await signIn(alice, consoleUrl, KEYS.alice);
    expect(await alice.locator('#role').textContent()).toBe('Role: settler');
    await alice.getByRole('link', { name: 'Movements' }).click();
    await alice.getByLabel('Customer username').fill('test');
    await alice.getByRole('button', { name: 'Search' }).click();
    await alice.locator('#pseudonym').waitFor();
    expect(await alice.locator('#pseudonym').textContent()).toContain(customer.userId);
    await alice.getByRole('link', { name: movementId }).click();
    await alice.locator('#timeline').waitFor();
    expect(await alice.locator('#timeline li').last().textContent()).toContain('processed');

    // 2. alice creates a batch of the due AED obligations and downloads its pain.001
    await alice.getByRole('link', { name: 'Settlement' }).click();
    const aliceRequests = recordApiRequests(alice);
    await alice.getByRole('button', { name: 'Create a batch of due AED' }).click();
    const batchHeading = alice.getByRole('heading', { level: 3, name: /^Batch bt/ });
    await batchHeading.waitFor();
    const batchId = /bt[-_][A-Za-z0-9_-]+/.exec((await batchHeading.textContent()) ?? '')![0];
    const downloading = alice.waitForEvent('download');
    await alice.getByRole('button', { name: 'Download pain.001' }).click();
    const xml = readFileSync((await (await downloading).path())!, 'utf8');
    expect(xml).toContain(`<MsgId>${batchId}</MsgId>`);
    expect(xml).toContain('<IBAN>AE070331234567890123456</IBAN>'); // the customer's AED account
    expect(aliceRequests.filter((r) => r.method === 'POST').map((r) => [r.path, r.authorization])).toEqual([['/batches', `Bearer ${KEYS.alice}`]]);

    // alice may not mark her own batch paid: the API's four_eyes message is shown
    await alice.getByLabel('Bank reference').fill('FT2633400123');
    await alice.getByRole('button', { name: 'Mark paid' }).click();
    await expect.poll(() => alice.getByRole('alert').first().textContent()).toMatch(/^four_eyes: /);

    // 3. bob (a second settler) marks it paid
    const bob = await browser.newPage();
    await signIn(bob, consoleUrl, KEYS.bob);
    await bob.getByRole('link', { name: 'Settlement' }).click();
    await bob.locator(`#batch-${batchId}`).waitFor();
    await bob.locator(`#batch-${batchId}`).getByLabel('Bank reference').fill('FT2633400123');
    await bob.locator(`#batch-${batchId}`).getByRole('button', { name: 'Mark paid' }).click();
    await expect.poll(() => bob.getByRole('status').first().textContent()).toContain(`Batch ${batchId} marked paid by bob with reference FT2633400123`);

    // 4. the customer's credit shows posted through the Kasisto API
    expect(await credit()).toMatchObject({ status: 'posted', currency_code: 'AED' });

    // a viewer sees it all and may change nothing
    const carol = await browser.newPage();
    await signIn(carol, consoleUrl, KEYS.carol);
    expect(await carol.locator('#role').textContent()).toBe('Role: viewer');
    await carol.getByRole('link', { name: 'Audit log' }).click();
    await carol.getByRole('table', { name: /Audit log/ }).waitFor();
    const audit = await carol.locator('#audit-list tbody tr').allTextContents();
    expect(audit.some((row) => row.includes('bob') && row.includes('batch_paid'))).toBe(true);
    expect(audit.some((row) => row.includes('alice') && row.includes('batch_created'))).toBe(true);
    await carol.getByRole('link', { name: 'Settlement' }).click();
    await carol.getByRole('heading', { level: 2, name: 'Batches' }).waitFor();
    expect(await carol.getByRole('button', { name: /Create a batch|Mark paid|Mark returned/ }).count()).toBe(0);
    await carol.screenshot({ path: join(PROJECT_ROOT, 'test-results', 'console-e2e-viewer-settlement-1280.png'), fullPage: true });
  });
});
