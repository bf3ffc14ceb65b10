/**
 * The Dockerfile's runtime stage, rebuilt without a container engine: a temp folder with
 * package.json, the lockfile, dist/, spec/ and only the production dependencies (the
 * packages `npm ls --omit=dev` names, copied from node_modules, as `npm prune --omit=dev`
 * leaves them). The built server and the standalone Verify sandbox are started from it
 * with plain node, the connector in production mode against PostgreSQL: /healthz (and the
 * image's HEALTHCHECK script), a sign-in through Verify, then SIGTERM → exit 0.
 * A dev dependency imported at run time fails here as ERR_MODULE_NOT_FOUND.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, postgresRequired, testPostgresUrl } from '../helpers/postgres.js';
import { ROOT, send, tempDir, TEST_CREDENTIALS_KEY, TEST_SECRET } from '../helpers/processes.js';
import { killAllTrees, startTree, waitGone, type Tree } from './tree.js';

const havePostgres = Boolean(testPostgresUrl());
if (postgresRequired && !havePostgres) throw new Error('CI=true but no test PostgreSQL (scripts/ci-postgres.sh)');

/** The production dependency folders, relative to ROOT (node_modules/…). */
function productionPackages(): string[] {
  const ls = spawnSync('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: ROOT, encoding: 'utf8' });
  expect(ls.status, ls.stderr).toBe(0);
  return ls.stdout
    .split('\n')
    .filter(Boolean)
    .map((dir) => relative(ROOT, dir))
    .filter((dir) => dir.startsWith(`node_modules${sep}`));
}

describe.skipIf(!havePostgres)('the runtime image tree, on plain node, against PostgreSQL', () => {
  const temp = tempDir('production-image-');
  const app = join(temp.dir, 'app');
  let db: { url: string; drop(): Promise<void> };
  let sandbox: Tree;
  let server: Tree;
  let base = '';
  let packages: string[] = [];

  beforeAll(async () => {
    const built = spawnSync(process.execPath, ['scripts/start.mjs', '--build-only'], { cwd: ROOT, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    mkdirSync(app);
    for (const item of ['package.json', 'package-lock.json', 'dist', 'spec']) cpSync(join(ROOT, item), join(app, item), { recursive: true });
    packages = productionPackages();
    for (const pkg of packages) {
      // a package's own nested node_modules may hold dev-only packages: nested ones are listed themselves
      cpSync(join(ROOT, pkg), join(app, pkg), { recursive: true, dereference: true, filter: (src) => relative(join(ROOT, pkg), src).split(sep)[0] !== 'node_modules' });
    }
    db = await createDatabase();
    sandbox = startTree(process.execPath, ['dist/src/sandbox/main.js'], { SANDBOX_PORT: '0', LOG_LEVEL: 'warn' }, app);
    const verifyUrl = (await sandbox.waitFor(/Verify sandbox listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    server = startTree(
      process.execPath,
      ['--enable-source-maps', 'dist/src/server.js'],
      {
        NODE_ENV: 'production',
        PORT: '0',
        DATABASE_URL: db.url,
        KASISTO_SECRET: TEST_SECRET,
        CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
        VERIFY_BASE_URL: verifyUrl,
        VERIFY_SECRET_KEY: 'sk_test_image',
        VERIFY_PUBLIC_KEY: 'pk_test_image',
        TLS_TERMINATED_BY_PROXY: 'true',
        METRICS_TOKEN: 'metrics-token-for-the-image-0042',
        LOG_LEVEL: 'info',
        ENV_FILE: join(temp.dir, 'none.env'),
      },
      app,
    );
    base = (await server.waitFor(/"msg":"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/))[1]!;
  }, 180_000);

  afterAll(async () => {
    killAllTrees();
    await db?.drop();
    temp.remove();
  });

  it('holds production dependencies only', () => {
    expect(packages).toContain(join('node_modules', 'fastify'));
    expect(packages).toContain(join('node_modules', 'ajv')); // imported by src/config.ts
    for (const dev of ['typescript', 'tsx', 'vitest', '@stoplight/prism-cli', '@redocly/cli', 'autocannon']) {
      expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    }
    expect(existsSync(join(app, 'src'))).toBe(false);
  });

  it('serves /healthz, passes the image HEALTHCHECK, and signs a customer in through Verify', async () => {
    expect((await send(`${base}/healthz`)).status).toBe(200);
    const port = new URL(base).port;
    const probe = spawnSync(process.execPath, ['dist/src/healthcheck.js'], { cwd: app, env: { PATH: process.env['PATH'] ?? '', PORT: port }, encoding: 'utf8' });
    expect(probe.status, probe.stderr).toBe(0);
    const signIn = await send(`${base}/api/token`, { method: 'POST', headers: { secret: TEST_SECRET }, body: JSON.stringify({ username: 'test', password: 'test_pass' }) });
    expect(signIn.status, signIn.body).toBe(200);
    expect(JSON.parse(signIn.body)).toMatchObject({ token: expect.any(String), user_id: expect.any(String) });
    // production start-up names the settings' sources in its JSON log, no values
    expect(server.output()).toMatch(/"settings":"settings: [^"]*KASISTO_SECRET[^"]* from the environment/);
    expect(server.output()).not.toContain(TEST_SECRET);
  });

  it('stops on SIGTERM with exit 0, and the HEALTHCHECK then fails', async () => {
    const pids = server.descendants();
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output()).toMatch(/"signal":"SIGTERM","msg":"stopped"/);
    expect(await waitGone([server.child.pid!, ...pids.keys()])).toEqual([]);
    const probe = spawnSync(process.execPath, ['dist/src/healthcheck.js'], { cwd: app, env: { PATH: process.env['PATH'] ?? '', PORT: new URL(base).port } });
    expect(probe.status).toBe(1);
    sandbox.child.kill('SIGTERM');
    expect((await sandbox.exited).code).toBe(0);
  });
});
