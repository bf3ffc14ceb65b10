/** Checks a live connector answer against spec/kasisto.yaml (status documented, body valid). */
import { expect } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { loadSpec } from '../helpers/spec.js';

export function kasistoResponseCheck() {
  const spec = loadSpec('kasisto');
  return (operation: string, res: LightMyRequestResponse) => {
    if (res.statusCode === 404) return; // unknown operations are outside the contract
    const result = spec.validateResponse(`/${operation}`, 'post', res.statusCode, res.body ? JSON.parse(res.body) : undefined);
    expect(result.message, `${operation} ${res.statusCode} ${res.body}`).toBe('');
  };
}
