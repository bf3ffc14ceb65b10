/**
 * `npm run spec:diff -- [git-ref] [--json] [--gate] [--write-baseline]`
 *
 * A breaking-change report for every API listed in redocly.yaml (`apis`), made with
 * `redocly diff` and the rules of scripts/spec-diff.redocly.yaml (diff-recommended).
 *
 * - With a git ref: each spec is compared with the same file at that ref.
 * - Without: with its committed contract baseline, the released contract,
 *   spec/baseline/<api name>.yaml (e.g. spec/baseline/verify@2018.yaml), or the path in
 *   the API's `x-contract-baseline` in redocly.yaml.
 * - Output: one line per change, `impact file:line pointer message [rule] (operations)`;
 *   `--json` prints the same as JSON. Exits 1 when a change is breaking (major).
 * - `--gate` (CI, .ci/run): exits 1 only for a spec that breaks its baseline WITHOUT a
 *   major bump of info.version (semver: a greater major; other versions, e.g. Verify's
 *   dates: a different version) AND a CHANGELOG.md heading naming the API and the new
 *   version (`## verify 2019-01-01`, `## kasisto 2.0.0`).
 * - `--write-baseline`: copies each spec to its baseline (do this when a contract is released).
 * - `--revisions`: what each Kasisto revision added or broke against the one before it
 *   (1.0 → 1.0-final → 1.2 → 1.3, the `kasisto-<revision>` APIs in their published order);
 *   informational, exits 0.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { readRedoclyConfig, type ApiEntry } from './lib/apis.js';

const HERE = fileURLToPath(new URL('..', import.meta.url));
const DIFF_CONFIG = join(HERE, 'scripts/spec-diff.redocly.yaml');

export interface SpecChange {
  impact: 'major' | 'minor' | 'patch';
  rule: string;
  message: string;
  /** Where to look: the changed spec (or the base, for a removal), project-relative or `ref:path`. */
  file: string;
  line?: number;
  /** JSON pointer of the changed node in that file (`/components/schemas/transfer/...`). */
  pointer: string;
  /** The operations through which the change is seen (`GET /banks`). */
  operations: string[];
}

export interface ApiReport {
  api: string;
  spec: string;
  /** What it was compared with: `spec/baseline/verify@2018.yaml` or `main:spec/verify.yaml`. */
  base: string;
  /** No base to compare with (new spec, no baseline yet). */
  missingBase?: boolean;
  baseVersion?: string;
  version?: string;
  summary: { major: number; minor: number; patch: number };
  breaking: boolean;
  changes: SpecChange[];
  /** --gate: why a breaking change is accepted or refused. */
  gate?: { ok: boolean; reason: string };
}

export interface DiffOptions {
  root: string;
  ref?: string;
  gate?: boolean;
}

export function baselinePath(api: ApiEntry): string {
  const custom = api.raw['x-contract-baseline'];
  return typeof custom === 'string' ? custom.replace(/^\.\//, '') : `spec/baseline/${api.name}.yaml`;
}

function git(root: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, out: r.stdout ?? '', err: r.stderr ?? '' };
}

const version = (text: string): string | undefined => {
  const doc = parse(text) as { info?: { version?: unknown } } | null;
  const v = doc?.info?.version;
  return v === undefined || v === null ? undefined : String(v);
};

/** True when `next` is a major bump of `prev`: semver majors grow; other schemes must differ. */
export function isMajorBump(prev: string | undefined, next: string | undefined): boolean {
  if (!prev || !next) return false;
  const semver = /^v?(\d+)\.\d+(\.\d+)?([-+].*)?$/;
  const a = semver.exec(prev);
  const b = semver.exec(next);
  if (a && b) return Number(b[1]) > Number(a[1]);
  return prev !== next;
}

export function changelogHasEntry(root: string, api: ApiEntry, v: string): boolean {
  const file = join(root, 'CHANGELOG.md');
  if (!existsSync(file)) return false;
  const names = [api.base, api.name].map((n) => n.toLowerCase());
  return readFileSync(file, 'utf8')
    .split('\n')
    .some((l) => /^#{1,6}\s/.test(l) && names.some((n) => l.toLowerCase().includes(n)) && l.includes(v));
}

interface RedoclyLocation {
  file?: string;
  pointer?: string;
  line?: number;
}
interface RedoclyChange {
  path: string;
  kind: string;
  impact: 'major' | 'minor' | 'patch';
  verdicts?: Array<{ ruleId: string; impact: string; message: string; location?: RedoclyLocation }>;
  base?: RedoclyLocation;
  revision?: RedoclyLocation;
}

/** `#/paths/~1banks/get/responses/...` -> `GET /banks` (the operation a change is seen through). */
function operationOf(path: string): string | undefined {
  const m = /^#\/paths\/([^/]+)(?:\/(get|put|post|delete|patch|head|options|trace))?/.exec(path);
  if (!m) return undefined;
  const p = m[1]!.replace(/~1/g, '/').replace(/~0/g, '~');
  return m[2] ? `${m[2].toUpperCase()} ${p}` : p;
}

function diffOne(root: string, api: ApiEntry, baseFile: string, baseLabel: string, tmp: string): Omit<ApiReport, 'api' | 'spec' | 'base'> {
  const out = join(tmp, `${api.name.replace(/[^\w.-]/g, '_')}.json`);
  const r = spawnSync(
    join(HERE, 'node_modules/.bin/redocly'),
    ['diff', baseFile, api.root, '--config', DIFF_CONFIG, '--format', 'json', '--fail-on', 'none', '--lint-config', 'off', '-o', out],
    { cwd: root, encoding: 'utf8', env: { ...process.env, REDOCLY_TELEMETRY: 'off', NO_COLOR: '1' } },
  );
  if (r.status !== 0 || !existsSync(out)) {
    throw new Error(`redocly diff ${baseLabel} ${api.rootRel} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  const report = JSON.parse(readFileSync(out, 'utf8')) as { summary: ApiReport['summary']; changes: RedoclyChange[] };
  // redocly names files relative to cwd; the base is a temp copy: name it by what it stands for
  const absBase = resolve(root, baseFile);
  const label = (file: string | undefined) => {
    if (!file) return api.rootRel;
    const abs = resolve(root, file);
    if (abs === absBase) return baseLabel;
    return relative(root, abs);
  };
  const byKey = new Map<string, SpecChange>();
  for (const c of report.changes) {
    const verdicts = c.verdicts?.length ? c.verdicts : [{ ruleId: c.kind, impact: c.impact, message: `${c.kind}`, location: c.revision ?? c.base }];
    for (const v of verdicts) {
      const loc = v.location ?? c.revision ?? c.base ?? {};
      const pointer = (loc.pointer ?? c.path).replace(/^#/, '');
      const change: SpecChange = {
        impact: (v.impact as SpecChange['impact']) ?? c.impact,
        rule: v.ruleId,
        message: v.message,
        file: label(loc.file),
        ...(loc.line !== undefined ? { line: loc.line } : {}),
        pointer,
        operations: [],
      };
      const key = `${change.impact} ${change.rule} ${change.file} ${pointer}`;
      const seen = byKey.get(key) ?? change;
      byKey.set(key, seen);
      const op = operationOf(c.path);
      if (op && !seen.operations.includes(op)) seen.operations.push(op);
    }
  }
  const order = { major: 0, minor: 1, patch: 2 } as const;
  const changes = [...byKey.values()].sort((a, b) => order[a.impact] - order[b.impact] || a.pointer.localeCompare(b.pointer));
  return { summary: report.summary, breaking: report.summary.major > 0, changes };
}

export function specDiff(opts: DiffOptions): ApiReport[] {
  const { root, ref } = opts;
  const config = readRedoclyConfig(root);
  const tmp = mkdtempSync(join(tmpdir(), 'spec-diff-'));
  const reports: ApiReport[] = [];
  try {
    config.apis.forEach((api, i) => {
      const current = readFileSync(api.root, 'utf8');
      let baseFile: string;
      let baseLabel: string;
      let baseText: string | undefined;
      if (ref) {
        baseLabel = `${ref}:${api.rootRel}`;
        const shown = git(root, ['show', `${ref}:${api.rootRel}`]);
        if (!shown.ok && /invalid object name|unknown revision|bad revision|not a valid object/i.test(shown.err)) {
          throw new Error(`unknown git ref '${ref}': ${shown.err.trim()}`);
        }
        baseText = shown.ok ? shown.out : undefined;
        baseFile = join(tmp, `base-${i}${api.root.endsWith('.json') ? '.json' : '.yaml'}`);
        if (baseText !== undefined) writeFileSync(baseFile, baseText);
      } else {
        baseLabel = baselinePath(api);
        baseFile = join(root, baseLabel);
        baseText = existsSync(baseFile) ? readFileSync(baseFile, 'utf8') : undefined;
      }
      const base: ApiReport = {
        api: api.name,
        spec: api.rootRel,
        base: baseLabel,
        version: version(current),
        summary: { major: 0, minor: 0, patch: 0 },
        breaking: false,
        changes: [],
      };
      if (baseText === undefined) {
        reports.push({ ...base, missingBase: true });
        return;
      }
      const report: ApiReport = { ...base, baseVersion: version(baseText), ...diffOne(root, api, baseFile, baseLabel, tmp) };
      if (opts.gate && report.breaking) {
        const bumped = isMajorBump(report.baseVersion, report.version);
        const logged = report.version !== undefined && changelogHasEntry(root, api, report.version);
        report.gate =
          bumped && logged
            ? { ok: true, reason: `info.version ${report.baseVersion} -> ${report.version} and CHANGELOG.md has an entry` }
            : {
                ok: false,
                reason: [
                  bumped ? '' : `info.version ${report.version ?? '(none)'} is not a major bump of ${report.baseVersion ?? '(none)'}`,
                  logged ? '' : `CHANGELOG.md has no heading naming ${api.base} ${report.version ?? ''}`.trimEnd(),
                ]
                  .filter(Boolean)
                  .join('; '),
              };
      }
      reports.push(report);
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return reports;
}

export function formatReport(reports: ApiReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    if (r.missingBase) {
      lines.push(`${r.spec} (${r.api}): no base to compare with (${r.base} does not exist)`);
      continue;
    }
    const verdict = r.breaking ? 'BREAKING' : r.changes.length ? 'compatible' : 'unchanged';
    const { major, minor, patch } = r.summary;
    lines.push(`${r.spec} (${r.api}) vs ${r.base}: ${verdict} (${major} major, ${minor} minor, ${patch} patch)`);
    const patches = r.changes.filter((c) => c.impact === 'patch').length;
    for (const c of r.changes) {
      if (c.impact === 'patch') continue; // descriptions, examples, extensions: counted below, listed by --json
      const where = `${c.file}${c.line !== undefined ? `:${c.line}` : ''}`;
      const ops = c.operations.length ? ` (${c.operations.slice(0, 3).join(', ')}${c.operations.length > 3 ? `, +${c.operations.length - 3}` : ''})` : '';
      lines.push(`  ${c.impact.padEnd(5)} ${where} ${c.pointer}: ${c.message} [${c.rule}]${ops}`);
    }
    if (patches) lines.push(`  (${patches} patch-level change${patches === 1 ? '' : 's'}: descriptions, examples, extensions; --json lists them)`);
    if (r.gate) lines.push(`  gate: ${r.gate.ok ? 'accepted' : 'REFUSED'}: ${r.gate.reason}`);
  }
  return lines.join('\n');
}

export function writeBaselines(root: string): string[] {
  const written: string[] = [];
  for (const api of readRedoclyConfig(root).apis) {
    const target = join(root, baselinePath(api));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(api.root, target);
    written.push(relative(root, target));
  }
  return written;
}

/** The Kasisto revisions in published order, each compared with the one before it. */
export function revisionDiff(root: string): ApiReport[] {
  const order = ['1.0', '1.0-final', '1.1', '1.2', '1.3'];
  const rank = (name: string) => {
    const i = order.indexOf(name.replace(/^kasisto-/, ''));
    return i < 0 ? order.length : i;
  };
  const revisions = readRedoclyConfig(root)
    .apis.filter((api) => api.name.startsWith('kasisto-'))
    .sort((a, b) => rank(a.name) - rank(b.name));
  const tmp = mkdtempSync(join(tmpdir(), 'spec-diff-revisions-'));
  try {
    return revisions.slice(1).map((api, i) => {
      const before = revisions[i]!;
      const base = { api: `${before.name} -> ${api.name}`, spec: api.rootRel, base: before.rootRel, version: version(readFileSync(api.root, 'utf8')), baseVersion: version(readFileSync(before.root, 'utf8')) };
      return { ...base, ...diffOne(root, api, before.root, before.rootRel, tmp) };
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function main(argv: string[]): number {
  const flags = new Set(argv.filter((a) => a.startsWith('--') && a !== '--root'));
  const rootAt = argv.indexOf('--root');
  const root = rootAt >= 0 && argv[rootAt + 1] ? resolve(argv[rootAt + 1]!) : HERE;
  const positional = argv.filter((a, i) => !a.startsWith('--') && !(rootAt >= 0 && i === rootAt + 1));
  for (const f of flags) if (!['--json', '--gate', '--write-baseline', '--revisions'].includes(f)) throw new Error(`unknown option ${f}`);
  if (flags.has('--revisions')) {
    const reports = revisionDiff(root);
    process.stdout.write((flags.has('--json') ? JSON.stringify({ revisions: reports }, null, 2) : formatReport(reports)) + '\n');
    return 0;
  }
  if (flags.has('--write-baseline')) {
    for (const f of writeBaselines(root)) process.stdout.write(`wrote ${f}\n`);
    return 0;
  }
  const gate = flags.has('--gate');
  const reports = specDiff({ root, ...(positional[0] ? { ref: positional[0] } : {}), gate });
  process.stdout.write((flags.has('--json') ? JSON.stringify({ ref: positional[0] ?? null, apis: reports }, null, 2) : formatReport(reports)) + '\n');
  if (gate) return reports.some((r) => r.gate && !r.gate.ok) ? 1 : 0;
  return reports.some((r) => r.breaking) ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`spec:diff: ${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}
