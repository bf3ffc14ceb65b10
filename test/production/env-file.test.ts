/**
 * `.env` support, with the real server process: the file fills in what the environment
 * lacks, the environment wins over the file, and the start-up output names where each
 * setting came from without printing any value.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runServerToExit, send, startProcess, stopAll, tempDir } from '../helpers/processes.js';

const temp = tempDir('production-env-');
afterAll(async () => {
  await stopAll();
  temp.remove();
});

const FILE_SECRET = 'from-dotenv-file-0123456789';
const ENV_SECRET = 'from-environment-0123456789';

it('reads .env under the environment, and reports sources without values', async () => {
  const file = join(temp.dir, 'app.env');
  // PORT=1 in the file loses to PORT=0 in the environment (else listen would fail: port 1 is privileged)
  writeFileSync(file, `# comment\nKASISTO_SECRET=${FILE_SECRET}\nPORT=1\nACCOUNTS_CACHE_SECONDS="7"\n`);
  const server = startProcess('src/server.ts', { ENV_FILE: file, PORT: '0', DATABASE_URL: `sqlite:${join(temp.dir, 'a.db')}`, LOG_LEVEL: 'info' });
  const base = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
  const line = (await server.waitFor(/^settings: .*$/m))[0];
  expect(line).toContain('PORT, DATABASE_URL, LOG_LEVEL from the environment');
  expect(line).toContain(`KASISTO_SECRET, ACCOUNTS_CACHE_SECONDS from ${file}`);
  expect(line).toMatch(/; \d+ at their defaults$/);
  // the file's secret is the one in force, and no value is printed
  const ok = await send(`${base}/api/token`, { method: 'POST', headers: { secret: FILE_SECRET }, body: JSON.stringify({ username: 'test', password: 'test_pass' }) });
  expect(ok.status, ok.body).toBe(200);
  expect(server.stdout() + server.stderr()).not.toContain(FILE_SECRET);
  expect(server.stdout()).not.toMatch(/=7\b|"7"/);
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
});

it('the environment wins over the file for the same setting', async () => {
  const file = join(temp.dir, 'both.env');
  writeFileSync(file, `KASISTO_SECRET=${FILE_SECRET}\n`);
  const server = startProcess('src/server.ts', { ENV_FILE: file, KASISTO_SECRET: ENV_SECRET, PORT: '0', DATABASE_URL: `sqlite:${join(temp.dir, 'b.db')}` });
  const base = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
  expect((await server.waitFor(/^settings: .*$/m))[0]).toMatch(/KASISTO_SECRET[^;]* from the environment/);
  const body = JSON.stringify({ username: 'test', password: 'test_pass' });
  expect((await send(`${base}/api/token`, { method: 'POST', headers: { secret: ENV_SECRET }, body })).status).toBe(200);
  expect((await send(`${base}/api/token`, { method: 'POST', headers: { secret: FILE_SECRET }, body })).status).toBe(401);
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
});

it('no .env file: every setting not in the environment is at its default', async () => {
  const server = startProcess('src/server.ts', { ENV_FILE: join(temp.dir, 'absent.env'), PORT: '0', DATABASE_URL: `sqlite:${join(temp.dir, 'c.db')}` });
  expect((await server.waitFor(/^settings: .*$/m))[0]).toMatch(/^settings: PORT, DATABASE_URL from the environment; \d+ at their defaults \(no \.env file\)$/);
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
});

it('a .env that cannot be read refuses to start, naming the file', async () => {
  const { code, stderr } = await runServerToExit({ ENV_FILE: temp.dir, PORT: '0', DATABASE_URL: `sqlite:${join(temp.dir, 'd.db')}` });
  expect(code).toBe(2);
  expect(stderr).toContain(`refusing to start`);
  expect(stderr).toContain(temp.dir);
});
