/**
 * Vitest global setup: builds dist/ once, before any test file runs, when it is missing or
 * stale (the suites that start `npm start` or copy dist/ run in parallel and must not each
 * rebuild it under the others).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const result = spawnSync(process.execPath, ['scripts/start.mjs', '--build-only'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm run build failed: ${result.stderr}`);
}
