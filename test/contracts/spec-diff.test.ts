/**
 * `npm run spec:diff`: each partner change issue 12 tried is applied to a temp copy of the
 * project's specs (the APIs come from redocly.yaml) and compared with the committed
 * baseline. The verdict must be right (three Verify changes breaking, the Kasisto addition
 * compatible), the exit code must follow it, and each breaking change must be reported with
 * the spec file, a line and the JSON pointer of the change. Then the CI gate (--gate) and a
 * comparison with a git ref.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { readRedoclyConfig, type ApiEntry } from '../../scripts/lib/apis.js';
import { PARTNER_CHANGES } from '../../scripts/lib/partner-changes.js';
import type { ApiReport } from '../../scripts/spec-diff.js';
import { PROJECT_ROOT } from '../helpers/prism.js';

const APIS = readRedoclyConfig(PROJECT_ROOT).apis;
const temps: string[] = [];

function copyProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spec-diff-test-'));
  temps.push(dir);
  for (const p of ['redocly.yaml', 'spec', 'CHANGELOG.md']) cpSync(join(PROJECT_ROOT, p), join(dir, p), { recursive: true });
  return dir;
}

function apiOf(base: string): ApiEntry {
  const api = APIS.find((a) => a.base === base);
  if (!api) throw new Error(`no API named ${base} in redocly.yaml`);
  return api;
}

/** Applies an edit to the copy's spec of that API. */
function edit(dir: string, api: ApiEntry, change: (doc: ReturnType<typeof parseDocument>) => void): void {
  const file = join(dir, api.rootRel);
  const doc = parseDocument(readFileSync(file, 'utf8'));
  change(doc);
  if (doc.errors.length) throw new Error(doc.errors.join('; '));
  writeFileSync(file, doc.toString());
}

interface Run {
  code: number;
  out: string;
  json?: { apis: ApiReport[] };
}

function specDiff(dir: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      join(PROJECT_ROOT, 'node_modules/.bin/tsx'),
      [join(PROJECT_ROOT, 'scripts/spec-diff.ts'), '--root', dir, ...args],
      { cwd: dir, env: { ...process.env, REDOCLY_TELEMETRY: 'off', NO_COLOR: '1' }, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        let json: Run['json'];
        if (args.includes('--json')) {
          try {
            json = JSON.parse(stdout);
          } catch {
            /* reported by the assertions */
          }
        }
        resolve({ code, out: `${stdout}${stderr}`, json });
      },
    );
  });
}

afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('spec:diff against the committed baselines', () => {
  it('every API in redocly.yaml has a baseline, and the specs do not break it', async () => {
    for (const api of APIS) expect(existsSync(join(PROJECT_ROOT, `spec/baseline/${api.name}.yaml`)), api.name).toBe(true);
    const r = await specDiff(copyProject(), []);
    expect(r.code, r.out).toBe(0);
    for (const api of APIS) expect(r.out).toContain(`${api.rootRel} (${api.name}) vs spec/baseline/${api.name}.yaml`);
  }, 90_000);

  const runs = new Map<string, { human: Run; json: Run; api: ApiEntry }>();
  beforeAll(async () => {
    await Promise.all(
      Object.entries(PARTNER_CHANGES).map(async ([name, change]) => {
        const dir = copyProject();
        const api = apiOf(change.api);
        edit(dir, api, (doc) => change.apply(doc));
        const [human, json] = await Promise.all([specDiff(dir, []), specDiff(dir, ['--json'])]);
        runs.set(name, { human, json, api });
      }),
    );
  }, 120_000);

  for (const [name, change] of Object.entries(PARTNER_CHANGES)) {
    it(`${name}: ${change.breaking ? 'breaking' : 'compatible'}`, () => {
      const { human, json, api } = runs.get(name)!;
      expect(human.code, human.out).toBe(change.breaking ? 1 : 0);
      expect(json.code, json.out).toBe(human.code);
      const report = json.json?.apis.find((a) => a.api === api.name);
      expect(report, json.out).toBeDefined();
      expect(report!.breaking).toBe(change.breaking);
      expect(report!.spec).toBe(api.rootRel);
      // the change is reported at its pointer, in a named file with a line
      const hit = report!.changes.find((c) => c.pointer.startsWith(change.pointer));
      expect(hit, `${change.pointer} in\n${human.out}`).toBeDefined();
      expect(hit!.impact).toBe(change.breaking ? 'major' : 'minor');
      expect(hit!.line).toBeGreaterThan(0);
      expect([api.rootRel, `spec/baseline/${api.name}.yaml`]).toContain(hit!.file);
      // the human report says the same in one line
      expect(human.out).toContain(`${api.rootRel} (${api.name}) vs spec/baseline/${api.name}.yaml: ${change.breaking ? 'BREAKING' : 'compatible'}`);
      expect(human.out).toMatch(new RegExp(`${hit!.impact} +${hit!.file.replace(/[.@]/g, '\\$&')}:${hit!.line} ${hit!.pointer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      // only the edited API changed
      for (const other of json.json!.apis) if (other.api !== api.name) expect(other.changes, other.api).toEqual([]);
    });
  }
});

describe('spec:diff --gate (CI)', () => {
  const breakVerify = (dir: string) => edit(dir, apiOf('verify'), (doc) => PARTNER_CHANGES['Verify adds transfer status processing']!.apply(doc));

  it('refuses a breaking change without a version bump, naming the spec and what is missing', async () => {
    const dir = copyProject();
    breakVerify(dir);
    const r = await specDiff(dir, ['--gate']);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain(`${apiOf('verify').rootRel} (${apiOf('verify').name})`);
    expect(r.out).toMatch(/gate: REFUSED: info\.version .* is not a major bump/);
  }, 90_000);

  it('refuses a bumped version without a CHANGELOG.md entry', async () => {
    const dir = copyProject();
    breakVerify(dir);
    edit(dir, apiOf('verify'), (doc) => doc.setIn(['info', 'version'], '2026-12-01'));
    const r = await specDiff(dir, ['--gate']);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('CHANGELOG.md has no heading naming verify 2026-12-01');
  }, 90_000);

  it('accepts a breaking change with a major bump and a CHANGELOG.md entry', async () => {
    const dir = copyProject();
    breakVerify(dir);
    edit(dir, apiOf('verify'), (doc) => doc.setIn(['info', 'version'], '2026-12-01'));
    writeFileSync(join(dir, 'CHANGELOG.md'), `${readFileSync(join(dir, 'CHANGELOG.md'), 'utf8')}\n## verify 2026-12-01\n\n- transfer status processing\n`);
    const r = await specDiff(dir, ['--gate']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('gate: accepted');
  }, 90_000);

  it('a semver spec needs a greater major: a minor bump is refused', async () => {
    const dir = copyProject();
    const kasisto = apiOf('kasisto-1.0');
    edit(dir, kasisto, (doc) => {
      doc.deleteIn(['components', 'schemas', 'account', 'properties', 'account_number']);
      doc.setIn(['info', 'version'], '1.1.0');
    });
    writeFileSync(join(dir, 'CHANGELOG.md'), '## kasisto-1.0 1.1.0\n');
    const r = await specDiff(dir, ['--gate']);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('info.version 1.1.0 is not a major bump of 1.0.0');
  }, 90_000);
});

describe('spec:diff <git-ref>', () => {
  it('compares each spec with the same file at the ref', async () => {
    const dir = copyProject();
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
    git('init', '-q');
    git('-c', 'user.email=t@example.invalid', '-c', 'user.name=t', 'add', '-A');
    git('-c', 'user.email=t@example.invalid', '-c', 'user.name=t', 'commit', '-qm', 'base');
    edit(dir, apiOf('verify'), (doc) => PARTNER_CHANGES['Verify renames bank_account.iban to account_iban']!.apply(doc));
    const r = await specDiff(dir, ['HEAD']);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain(`${apiOf('verify').rootRel} (${apiOf('verify').name}) vs HEAD:${apiOf('verify').rootRel}: BREAKING`);
    expect(r.out).toMatch(/\/components\/schemas\/bank_account\/properties\/iban: Property `iban` of `bank_account` was removed/);
    const bad = await specDiff(dir, ['no-such-ref']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("unknown git ref 'no-such-ref'");
  }, 90_000);
});

describe('spec:diff --revisions', () => {
  it('says what each Kasisto revision added or broke against the one before it, in published order', async () => {
    const r = await specDiff(PROJECT_ROOT, ['--revisions', '--json']);
    expect(r.code, r.out).toBe(0);
    const reports = (JSON.parse(r.out) as { revisions: ApiReport[] }).revisions;
    expect(reports.map((x) => x.api)).toEqual(['kasisto-1.0 -> kasisto-1.0-final', 'kasisto-1.0-final -> kasisto-1.2', 'kasisto-1.2 -> kasisto-1.3']);
    const [final, v12, v13] = reports;
    // 1.0-final renames transaction.category to categories[]: breaking for a 1.0 platform
    expect(final!.changes.some((c) => c.impact === 'major' && c.pointer.includes('/transaction/properties/categories'))).toBe(true);
    // 1.3 adds /offers
    expect(v13!.changes.some((c) => c.pointer === '/paths/~1offers')).toBe(true);
    for (const report of [final!, v12!, v13!]) expect(report.changes.every((c) => c.file.startsWith('spec/kasisto/'))).toBe(true);
  }, 60_000);
});
