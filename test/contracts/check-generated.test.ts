/**
 * `npm run check:generated` compares EVERY generated file with its spec. For each API that
 * redocly.yaml lists (read from redocly.yaml, so a new API is covered without editing this
 * file) we hand-edit its generated file in a temp copy of the project and expect the check
 * to exit 1 naming that file, the line and the edited text. A clean copy passes, and an API
 * added to redocly.yaml whose output was never generated is reported as missing.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { readRedoclyConfig } from '../../scripts/lib/apis.js';
import { PROJECT_ROOT } from '../helpers/prism.js';

const APIS = readRedoclyConfig(PROJECT_ROOT).apis.filter((a) => a.outputRel);
const temps: string[] = [];

function copyProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'check-generated-test-'));
  temps.push(dir);
  for (const p of ['redocly.yaml', 'spec', 'generated']) cpSync(join(PROJECT_ROOT, p), join(dir, p), { recursive: true });
  return dir;
}

function check(root: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      join(PROJECT_ROOT, 'node_modules/.bin/tsx'),
      [join(PROJECT_ROOT, 'scripts/check-generated.ts'), '--root', root],
      { cwd: PROJECT_ROOT, env: { ...process.env, REDOCLY_TELEMETRY: 'off', NO_COLOR: '1' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('check:generated', () => {
  it('lists at least the two partner APIs from redocly.yaml', () => {
    expect(APIS.map((a) => a.outputRel)).toEqual(expect.arrayContaining(['generated/kasisto/1.0.ts', 'generated/verify.ts']));
  });

  it('passes on an unedited copy', async () => {
    const r = await check(copyProject());
    expect(r.code, r.out).toBe(0);
    for (const api of APIS) expect(r.out).toContain(api.outputRel);
  }, 60_000);

  for (const api of APIS) {
    it(`fails naming ${api.outputRel} when it is edited by hand`, async () => {
      const dir = copyProject();
      const file = join(dir, api.outputRel!);
      const lines = readFileSync(file, 'utf8').split('\n');
      // Edit a line in the middle of the types, as a hand fix would.
      const at = lines.findIndex((l, i) => i > lines.length / 2 && /^\s+\w+\??: /.test(l));
      expect(at, 'a property line to edit').toBeGreaterThan(0);
      lines[at] = lines[at] + ' // hand edit';
      writeFileSync(file, lines.join('\n'));
      const r = await check(dir);
      expect(r.code, r.out).toBe(1);
      expect(r.out).toContain(`${api.outputRel}:${at + 1}: differs from what ${api.rootRel} generates`);
      expect(r.out).toContain('// hand edit');
      // Only the edited file is reported.
      for (const other of APIS) if (other !== api) expect(r.out).not.toContain(`${other.outputRel}:`);
    }, 60_000);
  }

  it('picks up an API added to redocly.yaml and reports its missing output', async () => {
    const dir = copyProject();
    const cfg = parseDocument(readFileSync(join(dir, 'redocly.yaml'), 'utf8'));
    const first = APIS[0]!;
    cfg.setIn(['apis', 'extra@1'], cfg.createNode({ root: `./${first.rootRel}`, 'x-openapi-ts': { output: './generated/extra.ts' } }));
    writeFileSync(join(dir, 'redocly.yaml'), cfg.toString());
    const r = await check(dir);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('generated/extra.ts: missing');
  }, 60_000);
});
