/**
 * The tolerant reader: a Verify answer that departs from spec/verify.yaml in a way the
 * connector can live with (a new transfer status, a missing non-essential field, a longer
 * id, a new account type) is used, counted in verify_contract_drift_total and logged at warn
 * once per (operation, kind, pointer) per interval with the value's JSON type and never the
 * value; it never opens the circuit breaker. Verify's own refusal message is logged, redacted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { withCircuitBreaker } from '../../src/adapters/verify/circuit.js';
import { isKnownTransferStatus, type VerifyDriftEvent, type VerifyLogger } from '../../src/adapters/verify/client.js';
import { VerifyError } from '../../src/adapters/verify/errors.js';
import { Metrics } from '../../src/observability/metrics.js';
import { SES, TR, VRF, example, failure, sendJson, startServer, testClient, type Handler } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

interface Line {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

async function setup(handler: Handler, driftLogIntervalMs?: number) {
  const server = await startServer(handler);
  const lines: Line[] = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push({ level, obj, msg });
  const logger: VerifyLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const metrics = new Metrics();
  const drifts: VerifyDriftEvent[] = [];
  const { client: base, events } = testClient(server.url, {
    logger,
    onDrift: (e) => {
      drifts.push(e);
      metrics.observeVerifyDrift(e);
    },
    ...(driftLogIntervalMs === undefined ? {} : { driftLogIntervalMs }),
  });
  const client = withCircuitBreaker(base, { failureThreshold: 2, openMs: 60_000 });
  cleanups.push(() => server.close(), () => client.close());
  return { server, client, lines, metrics, drifts, events };
}

async function driftCount(metrics: Metrics, operation: string, kind: string): Promise<number> {
  const { body } = await metrics.render();
  const m = body.match(new RegExp(`^verify_contract_drift_total\\{operation="${operation}",kind="${kind}"\\} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : 0;
}

const driftWarnings = (lines: Line[]) => lines.filter((l) => l.level === 'warn' && /departs from spec/.test(l.msg));

describe('tolerant reader', () => {
  it('a new transfer status: answer used, drift counted, one warn without the value, circuit closed', async () => {
    const { client, lines, metrics, events } = await setup((_req, res) =>
      sendJson(res, 200, { ...example('transfer_succeeded'), status: 'processing' }),
    );
    for (let i = 0; i < 5; i++) {
      const transfer = await client.getTransfer(TR);
      expect(transfer.status).toBe('processing');
      // what the domain branches on: an unknown status is not a known outcome
      expect(isKnownTransferStatus(transfer.status)).toBe(false);
    }
    expect(client.circuit.state).toBe('closed');
    expect(events.map((e) => e.outcome)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(await driftCount(metrics, 'getTransfer', 'unknown_enum')).toBe(5);
    const warns = driftWarnings(lines);
    expect(warns).toHaveLength(1); // once per (operation, kind, pointer) per interval
    expect(warns[0]!.obj).toEqual({ operation: 'getTransfer', drift: 'unknown_enum', pointer: '/status', valueType: 'string' });
    expect(JSON.stringify(lines)).not.toContain('processing');
  });

  it('logs the same drift again once the interval has passed', async () => {
    const { client, lines } = await setup((_req, res) => sendJson(res, 200, { ...example('transfer_succeeded'), status: 'processing' }), 0);
    await client.getTransfer(TR);
    await client.getTransfer(TR);
    expect(driftWarnings(lines)).toHaveLength(2);
  });

  it('a missing non-essential field and a longer id are drift; the answer is used', async () => {
    const { session_id: _omit, ...transfer } = example('transfer_succeeded');
    const longId = 'tr_' + 'A'.repeat(20);
    const { client, drifts, lines } = await setup((_req, res) => sendJson(res, 200, { ...transfer, id: longId }));
    await expect(client.getTransfer(TR)).resolves.toMatchObject({ id: longId });
    expect(drifts).toEqual(
      expect.arrayContaining([
        { operation: 'getTransfer', kind: 'missing_field', pointer: '/session_id', valueType: 'missing' },
        { operation: 'getTransfer', kind: 'pattern_mismatch', pointer: '/id', valueType: 'string' },
      ]),
    );
    expect(drifts).toHaveLength(2);
    expect(JSON.stringify(lines)).not.toContain(longId.slice(3));
  });

  it('drift inside a list is reported with array indices as *', async () => {
    const accounts = example('bank_accounts_test');
    for (const a of accounts) a.type = 'checking';
    const { client, drifts, metrics } = await setup((_req, res) => sendJson(res, 200, accounts));
    const got = await client.listBankAccounts(SES);
    expect(got.map((a) => a.type)).toEqual(accounts.map(() => 'checking'));
    expect(drifts).toEqual([{ operation: 'listBankAccounts', kind: 'unknown_enum', pointer: '/*/type', valueType: 'string' }]);
    expect(await driftCount(metrics, 'listBankAccounts', 'unknown_enum')).toBe(1);
  });

  it('a new status of the transfer inside a verification answer names only that field (oneOf)', async () => {
    const answer = example('transfer_verification_succeeded');
    expect(answer.verifiable.object).toBe('transfer');
    answer.verifiable.status = 'processing';
    const { client, drifts } = await setup((_req, res) => sendJson(res, 200, answer));
    await client.submitVerification({ type: 'transfer', transferId: TR }, VRF, { challenge_response: '1234' });
    expect(drifts).toEqual([{ operation: 'submitTransferVerification', kind: 'unknown_enum', pointer: '/verifiable/status', valueType: 'string' }]);
  });

  it('an essential field missing is still a contract failure, and those do open the circuit', async () => {
    const { status: _omit, ...transfer } = example('transfer_succeeded');
    const { client, drifts } = await setup((_req, res) => sendJson(res, 200, transfer));
    for (let i = 0; i < 2; i++) {
      await expect(client.getTransfer(TR)).rejects.toMatchObject({ kind: 'contract', detail: expect.stringContaining('status') });
    }
    expect(client.circuit.state).toBe('open');
    expect(drifts).toEqual([]);
  });

  it("keeps Verify's refusal message in the log, redacted", async () => {
    const { client, lines } = await setup((_req, res) =>
      sendJson(res, 400, { object: 'error', message: 'Missing required field purpose_code for AE070331234567890123456 (jane@example.com)' }),
    );
    const error = await failure(client.getTransfer(TR));
    expect(error).toBeInstanceOf(VerifyError);
    const line = lines.find((l) => l.msg === 'verify call failed');
    expect(line?.obj.verifyMessage).toBe('Missing required field purpose_code for [iban] ([email])');
    expect(JSON.stringify(lines)).not.toContain('AE0703');
    expect(JSON.stringify(lines)).not.toContain('jane@');
    expect(client.circuit.state).toBe('closed');
  });
});
