/**
 * `npm run check:generated`: regenerates every API listed in redocly.yaml (each one's
 * x-openapi-ts.output) into a temporary folder and compares each file with the committed
 * one. Names every file that differs with its first differing lines; exits 1 on any drift.
 *
 * Why not `openapi-typescript --redocly redocly.yaml --check`: in 7.13 it calls
 * process.exit(0) as soon as the FIRST api is up to date, so the others are never compared
 * (a hand edit of generated/verify.ts passed CI).
 *
 *   tsx scripts/check-generated.ts [--root DIR]   # DIR: project root (default: this repo)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { readRedoclyConfig, type ApiEntry } from './lib/apis.js';

const HERE = fileURLToPath(new URL('..', import.meta.url));

export interface Drift {
  api: string;
  file: string;
  spec: string;
  /** 1-based line of the first difference. */
  line: number;
  committed: string[];
  expected: string[];
  missing?: boolean;
}

/** First differing line and a few lines of context from each side. */
export function firstDifference(committed: string, expected: string, context = 3): Omit<Drift, 'api' | 'file' | 'spec'> | null {
  if (committed === expected) return null;
  const a = committed.split('\n');
  const b = expected.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return { line: i + 1, committed: a.slice(i, i + context), expected: b.slice(i, i + context) };
}

export function checkGenerated(projectRoot: string): { checked: ApiEntry[]; drifts: Drift[] } {
  const config = readRedoclyConfig(projectRoot);
  const apis = config.apis.filter((a) => a.output);
  const tmp = mkdtempSync(join(tmpdir(), 'check-generated-'));
  try {
    // A copy of the project's config whose roots are absolute and whose outputs land in tmp.
    const tmpApis: Record<string, unknown> = {};
    const tmpOut = new Map<string, string>();
    apis.forEach((api, i) => {
      const out = join(tmp, `${i}-${basename(api.output!)}`);
      tmpOut.set(api.name, out);
      tmpApis[api.name] = { ...api.raw, root: api.root, 'x-openapi-ts': { ...(api.raw['x-openapi-ts'] as object), output: out } };
    });
    const tmpConfig = join(tmp, 'redocly.yaml');
    writeFileSync(tmpConfig, stringify({ ...config.doc, apis: tmpApis }));
    const gen = spawnSync(join(HERE, 'node_modules/.bin/openapi-typescript'), ['--redocly', tmpConfig], {
      cwd: tmp,
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', NO_COLOR: '1' },
    });
    if (gen.status !== 0) {
      throw new Error(`openapi-typescript failed (exit ${gen.status}):\n${gen.stdout}${gen.stderr}`);
    }
    const drifts: Drift[] = [];
    for (const api of apis) {
      const expected = readFileSync(tmpOut.get(api.name)!, 'utf8');
      const base = { api: api.name, file: api.outputRel!, spec: api.rootRel };
      if (!existsSync(api.output!)) {
        drifts.push({ ...base, line: 1, committed: [], expected: expected.split('\n').slice(0, 3), missing: true });
        continue;
      }
      const diff = firstDifference(readFileSync(api.output!, 'utf8'), expected);
      if (diff) drifts.push({ ...base, ...diff });
    }
    return { checked: apis, drifts };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function formatDrift(d: Drift): string {
  if (d.missing) return `${d.file}: missing (generated from ${d.spec})`;
  const lines = [`${d.file}:${d.line}: differs from what ${d.spec} generates (first difference at line ${d.line})`];
  for (const l of d.committed) lines.push(`  - committed: ${l}`);
  for (const l of d.expected) lines.push(`  + expected:  ${l}`);
  return lines.join('\n');
}

function main(argv: string[]): number {
  const i = argv.indexOf('--root');
  const root = i >= 0 && argv[i + 1] ? resolve(argv[i + 1]!) : HERE;
  const { checked, drifts } = checkGenerated(root);
  for (const d of drifts) process.stderr.write(formatDrift(d) + '\n');
  if (drifts.length) {
    process.stderr.write(
      `\n${drifts.length} of ${checked.length} generated file(s) out of date with spec/: ` +
        `run 'npm run generate' and commit the result (never edit generated/ by hand).\n`,
    );
    return 1;
  }
  process.stdout.write(`generated/ is up to date: ${checked.map((a) => a.outputRel).join(', ')}\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`check:generated: ${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}
