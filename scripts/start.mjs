#!/usr/bin/env node
/**
 * `npm start`: runs the built server (dist/src/server.js) with plain node, building first
 * when dist/ is missing or older than any source, so `npm ci && npm start` works on a fresh
 * clone. Node cannot exec(), so the server is a child: SIGTERM, SIGINT and SIGHUP that reach
 * this process (from npm, which forwards them, or from a supervisor) are passed on, and
 * this process exits with the server's status once it has stopped. A signal sent to the
 * whole process group reaches the server directly as well; its shutdown is idempotent.
 * Usage: node scripts/start.mjs [--build-only] [script] (default: dist/src/server.js).
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filesUnder } from './build.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(ROOT, 'dist', '.build-stamp');
const args = process.argv.slice(2);
const buildOnly = args.includes('--build-only');
const target = args.find((a) => !a.startsWith('--')) ?? 'dist/src/server.js';

/** The first source newer than the last build, or undefined when dist/ is current. */
function staleBecause() {
  if (!existsSync(STAMP)) return 'dist/ is missing';
  // A runtime image has no src/: what is in dist/ is all there is.
  if (!existsSync(join(ROOT, 'src'))) return undefined;
  const built = statSync(STAMP).mtimeMs;
  const sources = [
    ...filesUnder('src', () => true),
    ...filesUnder('generated', (n) => n.endsWith('.ts')),
    // the console's server module is compiled too (its static files are read at run time)
    ...filesUnder('console', (n) => n.endsWith('.ts')),
    'scripts/admin.ts',
    'tsconfig.json',
    'tsconfig.build.json',
    'package.json',
  ];
  return sources.find((file) => existsSync(join(ROOT, file)) && statSync(join(ROOT, file)).mtimeMs > built);
}

/** The process doing the work right now (tsc's build, then the server): signals go to it. */
let current;
let signalled;
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => {
    signalled ??= signal;
    if (current && current.exitCode === null && current.signalCode === null) current.kill(signal);
  });
}

/** Runs node with `args` as the current child; resolves with its exit status. */
function run(args) {
  return new Promise((resolve) => {
    current = spawn(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
    current.on('error', (error) => {
      process.stderr.write(`start: ${error.message}\n`);
      resolve({ code: 1, signal: null });
    });
    current.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Exit the way the child did; ended by a signal it did not handle → 128 + its number. */
function exitLike({ code, signal }) {
  const numbers = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  process.exit(signal ? 128 + (numbers[signal] ?? 0) : (code ?? 1));
}

const reason = staleBecause();
if (reason) {
  process.stderr.write(`start: building (${reason === 'dist/ is missing' ? reason : `${reason} changed`})\n`);
  const built = await run([join(ROOT, 'scripts/build.mjs')]);
  if (built.code !== 0 || signalled) {
    if (signalled) process.stderr.write(`start: ${signalled} during the build; not starting\n`);
    exitLike(built.code === 0 ? { code: 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signalled] ?? 0), signal: null } : built);
  }
}
if (buildOnly) process.exit(0);
if (signalled) exitLike({ code: 0, signal: null });
exitLike(await run(['--enable-source-maps', join(ROOT, target)]));
