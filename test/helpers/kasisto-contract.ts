/** Checks a live connector answer against spec/kasisto/1.0.yaml (status documented, body valid). */
import { expect } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { TestConnector } from './connector.js';
import { PROJECT_ROOT } from './prism.js';
import { buildSpec, loadSpec, type Json, type JsonObject } from './spec.js';

export function kasistoResponseCheck() {
  const spec = loadSpec('kasisto');
  return (operation: string, res: LightMyRequestResponse) => {
    if (res.statusCode === 404) return; // unknown operations are outside the contract
    const result = spec.validateResponse(`/${operation}`, 'post', res.statusCode, res.body ? JSON.parse(res.body) : undefined);
    expect(result.message, `${operation} ${res.statusCode} ${res.body}`).toBe('');
  };
}

/** An account as the tests read it from /accounts. */
export interface Account {
  account_id: string;
  account_number: string;
  account_type: string;
  currency_code: string;
  available_balance: number;
  current_balance: number;
}

/** Calls through a test connector with every answer checked against spec/kasisto/1.0.yaml. */
export function checkedCalls(connector: () => TestConnector) {
  const checked = kasistoResponseCheck();
  const call = async (operation: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await connector().call(operation, body, headers);
    checked(operation, res);
    return res;
  };
  const accountsOf = async (token: string, userId: string): Promise<Account[]> => {
    const res = await call('accounts', { user_id: userId }, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  return { call, accountsOf };
}

/**
 * A revision's contract made strict: `additionalProperties: false` on every object schema
 * that lists its properties, so an answer carrying a field the revision does not define
 * (another revision's `otp_details`, a 1.3 account's `currency_code`) fails.
 */
export function strictKasistoSpec(revision: string) {
  const doc = structuredClone(loadSpec(`kasisto-${revision}`).doc) as JsonObject;
  const visit = (node: Json | undefined): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    if (node.properties && typeof node.properties === 'object' && node.additionalProperties === undefined) node.additionalProperties = false;
    for (const value of Object.values(node)) visit(value);
  };
  visit(doc.components);
  visit(doc.paths);
  return buildSpec(`${PROJECT_ROOT}/spec/kasisto/strict-${revision}.yaml`, doc);
}

/** Calls through a test connector serving `revision`, every answer checked against its strict contract. */
export function strictCalls(connector: () => TestConnector, revision: string, headers: () => Record<string, string> = () => ({})) {
  const spec = strictKasistoSpec(revision);
  return async (operation: string, body: unknown, extra: Record<string, string> = {}) => {
    const res = await connector().call(operation, body, { ...headers(), ...extra });
    const result = spec.validateResponse(`/${operation}`, 'post', res.statusCode, res.body ? JSON.parse(res.body) : undefined);
    expect(result.message, `${revision} ${operation} ${res.statusCode} ${res.body}`).toBe('');
    return res;
  };
}
