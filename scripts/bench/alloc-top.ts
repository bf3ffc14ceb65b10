/**
 * Summarises a sampled allocation profile (BENCH_ALLOC_PROFILE=FILE on a bench server): bytes
 * allocated per function (self) and per call path through our own code, to find what a
 * request allocates.   npx tsx scripts/bench/alloc-top.ts FILE [N]
 */
import { readFileSync } from 'node:fs';

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}
const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: alloc-top.ts FILE [N]');
const top = Number(topArg ?? 30);
const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: Node };
const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|src|scripts)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
const walk = (n: Node, stack: string[]): number => {
  const l = label(n);
  let sum = n.selfSize;
  self.set(l, (self.get(l) ?? 0) + n.selfSize);
  for (const c of n.children) sum += walk(c, [...stack, l]);
  if (!stack.includes(l)) inclusive.set(l, (inclusive.get(l) ?? 0) + sum);
  return sum;
};
total = walk(head, []);
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (of ${(total / 2 ** 20).toFixed(1)} MB sampled)`);
  for (const [l, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${l}`);
};
print('self', self);
print('inclusive', inclusive);
