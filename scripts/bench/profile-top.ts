/**
 * Summarises a V8 .cpuprofile (from BENCH_CPU_PROF=1 npm run bench): the functions with the
 * most self time, and the most inclusive time, so a regression's cause is one command away.
 *
 *   npx tsx scripts/bench/profile-top.ts bench/profiles/connector-accounts-*.cpuprofile [N]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-top.ts FILE.cpuprofile [N]');
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
// percentages of busy time: idle and the profiler's own bookkeeping left out
const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
const total = [...selfTime].filter(([id]) => !idle.has(id)).reduce((a, [, t]) => a + t, 0);

const label = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|src|scripts)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
};
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, t] of selfTime) {
  if (idle.has(id)) continue;
  const node = byId.get(id)!;
  self.set(label(node), (self.get(label(node)) ?? 0) + t);
  // inclusive: each distinct frame on the stack once
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + t);
  }
}
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [l, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${l}`);
};
// self time by package (node_modules/<name>), our files, Node's internals and native code
const byPackage = new Map<string, number>();
for (const [l, t] of self) {
  const where = l.slice(l.indexOf(' ') + 1);
  const key = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where)?.[1] ?? (/^(src|scripts)\//.test(where) ? where.replace(/:\d+$/, '') : where.startsWith('node:') ? 'node internals' : `native ${l.split(' ')[0]}`);
  byPackage.set(key, (byPackage.get(key) ?? 0) + t);
}
print('self time by package', byPackage);
print('self time', self);
print('inclusive time', inclusive);
