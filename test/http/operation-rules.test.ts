/**
 * operationRules reads from spec/kasisto/1.0.yaml which operations take the customer's token,
 * which may answer 450, and which answers a one-time password (451). The expected sets are
 * read here from the spec through the tests' own OpenAPI walker (test/helpers/spec.ts), and
 * the derivation is pinned on small documents of its own.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { operationRules } from '../../src/http/operation-rules.js';
import { loadSpec, type Json, type JsonObject } from '../helpers/spec.js';

const SPEC = 'spec/kasisto/1.0.yaml';
const dir = mkdtempSync(join(tmpdir(), 'operation-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes an OpenAPI document and reads its rules. */
function rulesOf(doc: object) {
  const file = join(dir, `spec-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(doc));
  return operationRules(file);
}

describe('operationRules on spec/kasisto/1.0.yaml', () => {
  const kasisto = loadSpec('kasisto');
  const operations = kasisto.operations().filter((op) => op.operationId);
  const rules = operationRules(SPEC);
  const ids = (keep: (op: (typeof operations)[number]) => boolean) => new Set(operations.filter(keep).map((op) => op.operationId!));
  const requirements = (op: (typeof operations)[number]) => (op.op['security'] ?? kasisto.doc['security'] ?? []) as JsonObject[];

  it('knows every operation of the spec and nothing else', () => {
    const all = new Set(operations.map((op) => op.operationId!));
    for (const set of [rules.needsToken, rules.mayAskOtp, rules.answersOtp]) for (const id of set) expect(all).toContain(id);
  });

  it("needs the customer's token where every security requirement names it", () => {
    const expected = ids((op) => requirements(op).length > 0 && requirements(op).every((r) => Object.keys(r).includes('token')));
    expect(rules.needsToken).toEqual(expected);
    expect(rules.needsToken.size).toBeGreaterThan(0);
    // signing in issues the token, so it cannot need one
    expect(rules.needsToken).not.toContain('createToken');
  });

  it('may answer 450 where the spec lists 450, and answers an OTP where it lists 451', () => {
    expect(rules.mayAskOtp).toEqual(ids((op) => op.statuses.includes('450')));
    expect(rules.answersOtp).toEqual(ids((op) => op.statuses.includes('451')));
    expect(rules.mayAskOtp.size).toBeGreaterThan(0);
    expect(rules.answersOtp.size).toBeGreaterThan(0);
  });

  it('asks for and takes an OTP only behind a token, and never asks where it is answered', () => {
    for (const id of [...rules.mayAskOtp, ...rules.answersOtp]) expect(rules.needsToken, id).toContain(id);
    for (const id of rules.answersOtp) expect(rules.mayAskOtp, id).not.toContain(id);
    // the OTP answer documents the whole 451–453 family, not just 451
    for (const op of operations.filter((o) => rules.answersOtp.has(o.operationId!))) expect(op.statuses).toEqual(expect.arrayContaining(['451', '452', '453']));
  });
});

describe('operationRules on documents of its own', () => {
  const ok = { '200': { description: 'ok' } };
  const doc = (paths: Record<string, Json>, security?: Json) => ({ openapi: '3.1.0', info: { title: 't', version: '1' }, ...(security ? { security } : {}), paths });

  it('inherits the document security, lets an operation override it, and ignores operations without an id', () => {
    const rules = rulesOf(
      doc(
        {
          '/a': { post: { operationId: 'inherits', responses: ok } },
          '/b': { post: { operationId: 'ownSecret', security: [{ secret: [] }], responses: ok } },
          '/c': { post: { operationId: 'open', security: [], responses: ok } },
          '/d': { post: { responses: { '450': { description: 'otp' } } } },
        },
        [{ secret: [], token: [] }],
      ),
    );
    expect(rules.needsToken).toEqual(new Set(['inherits']));
    expect(rules.mayAskOtp.size).toBe(0);
  });

  it('does not need the token when one alternative requirement goes without it', () => {
    const rules = rulesOf(
      doc({
        '/either': { post: { operationId: 'either', security: [{ secret: [], token: [] }, { secret: [] }], responses: ok } },
        '/both': { post: { operationId: 'both', security: [{ secret: [], token: [] }, { token: [] }], responses: ok } },
      }),
    );
    expect(rules.needsToken).toEqual(new Set(['both']));
  });

  it('reads 450 and 451 per operation, whatever else it lists', () => {
    const rules = rulesOf(
      doc({
        '/asks': { post: { operationId: 'asks', responses: { ...ok, '450': { description: 'otp' } } } },
        '/answers': { post: { operationId: 'answers', responses: { ...ok, '451': { description: 'wrong' }, '452': { description: 'expired' } } } },
        '/neither': { get: { operationId: 'neither', responses: { ...ok, '452': { description: 'expired' } } } },
      }),
    );
    expect(rules.mayAskOtp).toEqual(new Set(['asks']));
    expect(rules.answersOtp).toEqual(new Set(['answers']));
  });
});
