/**
 * Contract drift is caught at compile time: when spec/verify.yaml changes a field the code
 * uses, the regenerated types make the code fail `tsc`.
 *
 * In a temp dir we write three copies of spec/verify.yaml: unchanged, with
 * bank_account.iban renamed to iban_code, and with transfer.amount typed as a string. For
 * each, openapi-typescript (the project's CLI, explicit input and -o, cwd = the temp dir so
 * the project's redocly.yaml is not picked up) generates types, and `tsc --noEmit` checks
 * one small program that uses the fields as the connector does (openapi-fetch client typed
 * with the generated `paths`). The unchanged copy must pass; each change must fail with an
 * error at, or naming, the changed field.
 *
 * Also: `npm run check:generated` passes on the real tree (generated/ matches spec/).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { PROJECT_ROOT } from '../helpers/prism.js';

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, timeout = 60_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd, timeout, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, REDOCLY_TELEMETRY: 'off', NO_COLOR: '1' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && typeof err.code !== 'number' ? String(err) : '') });
      },
    );
  });
}

const BIN = (name: string) => join(PROJECT_ROOT, 'node_modules/.bin', name);

/** What the connector does with the Verify types: read IBANs, convert transfer amounts. */
const PROGRAM = `import createClient from 'openapi-fetch';
import type { components, paths } from './verify.js';

type Transfer = components['schemas']['transfer'];

/** Minor units (fils) to major units: 1050 AED fils -> 10.5. */
export function toMajor(minor: number, currency: string): number {
  return minor / (currency === 'BHD' ? 1000 : 100);
}

export async function ibansOfSession(baseUrl: string, sessionId: string): Promise<string[]> {
  const client = createClient<paths>({ baseUrl, headers: { Authorization: 'Token pk_test_x' } });
  const { data, error } = await client.GET('/sessions/{session_id}/bank_accounts', {
    params: { path: { session_id: sessionId } },
  });
  if (error || !data) throw new Error('listing bank accounts failed');
  return data.map((account) => account.iban);
}

export function transferAmount(t: Transfer): number {
  return toMajor(t.amount, t.currency);
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023', 'DOM'],
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  },
  files: ['program.ts'],
};

type Mutation = (doc: Document) => void;

function schemaProps(doc: Document, schema: string) {
  const props = doc.getIn(['components', 'schemas', schema, 'properties'], true);
  if (!isMap(props)) throw new Error(`components.schemas.${schema}.properties not found in spec/verify.yaml`);
  return props;
}

const VARIANTS: Record<string, { mutate?: Mutation; field?: string; line?: RegExp }> = {
  unchanged: {},
  'bank_account.iban renamed to iban_code': {
    field: 'iban',
    line: /\.iban\b/,
    mutate: (doc) => {
      const props = schemaProps(doc, 'bank_account');
      const pair = props.items.find((p) => String((p.key as { value?: unknown })?.value ?? p.key) === 'iban');
      if (!pair) throw new Error('bank_account.iban not found');
      pair.key = doc.createNode('iban_code');
      const required = doc.getIn(['components', 'schemas', 'bank_account', 'required'], true);
      if (isSeq(required)) {
        const i = required.items.findIndex((n) => String((n as { value?: unknown }).value ?? n) === 'iban');
        if (i >= 0) required.set(i, 'iban_code');
      }
    },
  },
  'transfer.amount typed as string': {
    field: 'amount',
    line: /\.amount\b/,
    mutate: (doc) => {
      const props = schemaProps(doc, 'transfer');
      if (!props.has('amount')) throw new Error('transfer.amount not found');
      doc.setIn(['components', 'schemas', 'transfer', 'properties', 'amount', 'type'], 'string');
      doc.deleteIn(['components', 'schemas', 'transfer', 'properties', 'amount', 'minimum']);
    },
  },
};

describe('contract drift breaks the build', () => {
  let tmp: string;
  const results = new Map<string, { gen: RunResult; tsc: RunResult; dir: string }>();

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'drift-'));
    // Resolve openapi-fetch (and nothing else) from the project, without touching the project.
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(tmp, 'node_modules'), 'dir');
    writeFileSync(join(tmp, 'package.json'), JSON.stringify({ name: 'drift-check', private: true, type: 'module' }));
    const source = readFileSync(join(PROJECT_ROOT, 'spec/verify.yaml'), 'utf8');

    await Promise.all(
      Object.entries(VARIANTS).map(async ([name, v], i) => {
        const dir = join(tmp, `v${i}`);
        mkdirSync(dir);
        const doc = parseDocument(source);
        v.mutate?.(doc);
        if (doc.errors.length) throw new Error(`${name}: ${doc.errors.join('; ')}`);
        writeFileSync(join(dir, 'verify.yaml'), doc.toString());
        writeFileSync(join(dir, 'program.ts'), PROGRAM);
        writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
        const gen = await run(BIN('openapi-typescript'), ['verify.yaml', '-o', 'verify.ts'], dir);
        const tsc = gen.code === 0 ? await run(BIN('tsc'), ['--noEmit', '-p', 'tsconfig.json', '--pretty', 'false'], dir) : gen;
        results.set(name, { gen, tsc, dir });
      }),
    );
  }, 90_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the program compiles against types regenerated from the unchanged spec', () => {
    const r = results.get('unchanged')!;
    expect(r.gen.code, r.gen.stderr).toBe(0);
    expect(r.tsc.code, `${r.tsc.stdout}${r.tsc.stderr}`).toBe(0);
    // Same generator, same spec: the temp types are exactly generated/verify.ts, so the
    // program checks what the connector compiles against.
    const regenerated = readFileSync(join(r.dir, 'verify.ts'), 'utf8');
    expect(regenerated).toContain('iban: string;');
    expect(regenerated === readFileSync(join(PROJECT_ROOT, 'generated/verify.ts'), 'utf8'), 'generated/verify.ts is stale: npm run generate').toBe(true);
  });

  for (const [name, v] of Object.entries(VARIANTS)) {
    if (!v.mutate) continue;
    it(`${name}: tsc fails at the field`, () => {
      const r = results.get(name)!;
      expect(r.gen.code, r.gen.stderr).toBe(0);
      const out = r.tsc.stdout + r.tsc.stderr;
      expect(r.tsc.code, `tsc should fail:\n${out}`).not.toBe(0);
      const program = PROGRAM.split('\n');
      const errors = [...out.matchAll(/^program\.ts\((\d+),(\d+)\): error (TS\d+): (.*)$/gm)].map((m) => ({
        line: program[Number(m[1]) - 1] ?? '',
        code: m[3]!,
        message: m[4]!,
      }));
      expect(errors.length, out).toBeGreaterThan(0);
      // Each error is in our program and either names the field or points at its use.
      const namesField = errors.filter((e) => e.message.includes(`'${v.field}'`) || v.line!.test(e.line));
      expect(namesField.length, out).toBeGreaterThan(0);
    });
  }

  it('the rename is reported as a missing property of the regenerated type', () => {
    const out = results.get('bank_account.iban renamed to iban_code')!.tsc.stdout;
    expect(out).toMatch(/error TS2339: Property 'iban' does not exist on type '\{[^']*\biban_code: string;/);
  });

  it('the retyped amount is reported where the code treats it as a number', () => {
    const out = results.get('transfer.amount typed as string')!.tsc.stdout;
    expect(out).toMatch(/Argument of type 'string' is not assignable to parameter of type 'number'/);
  });

  it('npm run check:generated passes: generated/ matches spec/', async () => {
    const r = await run('npm', ['run', '--silent', 'check:generated'], PROJECT_ROOT);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
  }, 60_000);
});
