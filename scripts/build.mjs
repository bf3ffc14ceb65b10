#!/usr/bin/env node
/**
 * `npm run build`: compiles src/ (and scripts/admin.ts) with tsc into dist/, mirroring the
 * project layout (dist/src/server.js, dist/scripts/admin.js) so that src/paths.ts finds
 * the project root from either; copies the JSON assets tsc does not emit; then writes
 * dist/.build-stamp, which scripts/start.mjs compares with the sources' times.
 * Plain JavaScript: it must run with nothing but node and the dev dependencies.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');

/** Files below `dir` (relative to ROOT) for which `keep(name)` holds. */
export function filesUnder(dir, keep) {
  const out = [];
  const walk = (abs) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const path = join(abs, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (keep(entry.name)) out.push(relative(ROOT, path));
    }
  };
  walk(join(ROOT, dir));
  return out;
}

/** Compiles and copies; resolves once dist/ is complete (rejects if tsc fails or is stopped). */
export async function build({ quiet = false } = {}) {
  const started = Date.now();
  rmSync(DIST, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  // Asynchronous, so a SIGTERM or SIGINT meant for the build stops tsc as well.
  const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const forward = (signal) => child.kill(signal);
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const signal of signals) process.on(signal, forward);
  const { code, signal } = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal }));
  }).finally(() => {
    for (const s of signals) process.off(s, forward);
  });
  if (code !== 0) throw new Error(`tsc ${signal ? `stopped by ${signal}` : `failed (exit ${code})`}`);
  const assets = filesUnder('src', (name) => name.endsWith('.json'));
  for (const file of assets) {
    mkdirSync(dirname(join(DIST, file)), { recursive: true });
    cpSync(join(ROOT, file), join(DIST, file));
  }
  writeFileSync(join(DIST, '.build-stamp'), `${new Date().toISOString()}\n`);
  if (!quiet) process.stderr.write(`build: dist/ ready in ${Date.now() - started} ms (${assets.length} asset(s) copied)\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await build();
  } catch (error) {
    process.stderr.write(`build: ${error.message}\n`);
    process.exit(1);
  }
}
