/**
 * Issue 12's "done when", for the three Verify changes that typecheck must catch: in a temp
 * copy of src/, spec/ and generated/, Verify (a) renames bank_account.iban to account_iban,
 * (b) adds a required session request field and (c) adds the transfer status `processing`;
 * generated/ is regenerated there and `tsc --noEmit` must name every line to change: the
 * domain's call sites and branches, not only the Verify client. (docs/contract-changes.md,
 * "What catches what", has the whole table, spec:diff and check:generated included; those
 * two have suites of their own: spec-diff.test.ts, check-generated.test.ts.)
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/prism.js';

let dir: string;
let errors: string[] = [];

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: { ...process.env, REDOCLY_TELEMETRY: 'off', NO_COLOR: '1' }, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** Replaces `from` (which must occur) everywhere in a file of the copy. */
function edit(file: string, from: string | RegExp, to: string): void {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  const edited = typeof from === 'string' ? text.replaceAll(from, to) : text.replace(from, to);
  if (edited === text) throw new Error(`${file}: nothing matched ${String(from)}`);
  writeFileSync(path, edited);
}

/** 1-based numbers of the lines of a project file that contain `needle`. */
function linesOf(file: string, needle: string): number[] {
  return readFileSync(join(PROJECT_ROOT, file), 'utf8')
    .split('\n')
    .flatMap((line, i) => (line.includes(needle) ? [i + 1] : []));
}

/** The tsc errors at a line of a file (`file(line,col): error …`). */
const errorsAt = (file: string, line: number) => errors.filter((e) => e.startsWith(`${file}(${line},`));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'what-catches-what-'));
  for (const p of ['package.json', 'redocly.yaml', 'spec', 'generated', 'src', 'console']) cpSync(join(PROJECT_ROOT, p), join(dir, p), { recursive: true });
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const tsconfig = JSON.parse(readFileSync(join(PROJECT_ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig, include: ['src', 'generated'] }));

  // (a) the rename, in the schema, its required list and the examples
  edit('spec/verify.yaml', 'required: [id, object, bank_id, iban,', 'required: [id, object, bank_id, account_iban,');
  edit('spec/verify.yaml', /^ {8}iban:\n {10}type: string/gm, '        account_iban:\n          type: string');
  // (b) a required session request field
  edit('spec/verify.yaml', '      required: [currency, amount]\n', '      required: [currency, amount, return_url]\n');
  edit('spec/verify.yaml', /(create_session_request:[\s\S]*?properties:\n)/, '$1        return_url:\n          type: string\n');
  // (c) a transfer status
  edit('spec/verify.yaml', 'enum: [initial, pending_verification, succeeded, failed]', 'enum: [initial, pending_verification, processing, succeeded, failed]');

  const gen = await run(join(PROJECT_ROOT, 'node_modules/.bin/openapi-typescript'), ['--redocly', 'redocly.yaml'], dir);
  if (gen.code !== 0) throw new Error(gen.out);
  const tsc = await run(join(PROJECT_ROOT, 'node_modules/.bin/tsc'), ['--noEmit', '-p', 'tsconfig.json'], dir);
  expect(tsc.code, 'typecheck fails').not.toBe(0);
  errors = tsc.out.split('\n').filter((l) => / error TS\d+:/.test(l));
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('(c) a new transfer status: tsc names the client’s exhaustive list and the domain’s switch', () => {
  const [list] = linesOf('src/adapters/verify/client.ts', 'VERIFY_TRANSFER_STATUSES = exhaustive');
  expect(errorsAt('src/adapters/verify/client.ts', list!).join('\n'), errors.join('\n')).toContain("missing: \"processing\"");
  const switches = linesOf('src/domain/movements/drive.ts', 'satisfies never').flatMap((l) => errorsAt('src/domain/movements/drive.ts', l));
  expect(switches.join('\n'), errors.join('\n')).toContain('"processing"');
});

it('(b) a required session request field: tsc names the three domain call sites of createSession', () => {
  for (const file of ['src/domain/sessions.ts', 'src/domain/accounts.ts', 'src/domain/movements/drive.ts']) {
    const sites = linesOf(file, 'ctx.verify.createSession(');
    expect(sites.length, file).toBeGreaterThan(0);
    for (const line of sites) expect(errorsAt(file, line).join('\n'), `${file}:${line}\n${errors.join('\n')}`).toContain('return_url: string');
  }
});

it('(a) a renamed account field: tsc names every read of it', () => {
  const reads = [
    ...linesOf('src/domain/accounts.ts', 'a.iban').map((l) => ['src/domain/accounts.ts', l] as const),
    ...linesOf('src/domain/movements/drive.ts', 'a.iban').map((l) => ['src/domain/movements/drive.ts', l] as const),
  ];
  expect(reads.length).toBeGreaterThanOrEqual(2);
  for (const [file, line] of reads) expect(errorsAt(file, line).join('\n'), `${file}:${line}\n${errors.join('\n')}`).toContain("Property 'iban' does not exist");
});

it('nothing else in src/ fails: each error is one of the lines above', () => {
  const expected = new Set([
    ...linesOf('src/adapters/verify/client.ts', 'VERIFY_TRANSFER_STATUSES = exhaustive').map((l) => `src/adapters/verify/client.ts:${l}`),
    ...linesOf('src/domain/movements/drive.ts', 'satisfies never').map((l) => `src/domain/movements/drive.ts:${l}`),
    ...['src/domain/sessions.ts', 'src/domain/accounts.ts', 'src/domain/movements/drive.ts'].flatMap((f) => linesOf(f, 'ctx.verify.createSession(').map((l) => `${f}:${l}`)),
    ...['src/domain/accounts.ts', 'src/domain/movements/drive.ts'].flatMap((f) => linesOf(f, 'a.iban').map((l) => `${f}:${l}`)),
    // the sandbox builds Verify's answers from the same generated types
    ...linesOf('src/sandbox/state.ts', 'iban').map((l) => `src/sandbox/state.ts:${l}`),
  ]);
  const at = errors.map((e) => e.replace(/^(.+?)\((\d+),\d+\).*$/, '$1:$2'));
  expect(at.filter((a) => !expected.has(a)), errors.join('\n')).toEqual([]);
});
