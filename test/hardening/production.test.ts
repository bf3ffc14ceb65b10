/**
 * NODE_ENV=production never runs on development defaults: the real server process refuses
 * to start (exit 2) and names every missing setting at once, without echoing any value;
 * with everything given it starts, logs JSON only, and its probes work.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServerToExit, selfSignedCertificate, send, startProcess, stopAll, tempDir, TEST_CREDENTIALS_KEY, TEST_SECRET } from '../helpers/processes.js';

const temp = tempDir('hardening-production-');
afterAll(async () => {
  await stopAll();
  temp.remove();
});

/** A loopback port nobody listens on (a Verify that is down). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('NODE_ENV=production refuses to start without its settings', () => {
  it('names each missing setting and exits non-zero', async () => {
    const { code, stderr } = await runServerToExit({ NODE_ENV: 'production', DATABASE_URL: `sqlite:${join(temp.dir, 'a.db')}` });
    expect(code).toBe(2);
    expect(stderr).toMatch(/refusing to start/);
    for (const setting of ['KASISTO_SECRET', 'VERIFY_BASE_URL', 'VERIFY_SECRET_KEY', 'VERIFY_PUBLIC_KEY', 'CREDENTIALS_KEY', 'METRICS_TOKEN', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'TLS_TERMINATED_BY_PROXY']) {
      expect(stderr, setting).toContain(setting);
    }
  });

  it('names only what is still missing or wrong, and never prints a value', async () => {
    const values = {
      KASISTO_SECRET: 'tooShortSecretX', // 15 characters: refused in production
      VERIFY_SECRET_KEY: 'sk_live_SuperSecretVerifyKey9876',
      CREDENTIALS_KEY: 'not-a-32-byte-key-SecretValue42',
      METRICS_TOKEN: 'metrics-token-SecretValue-0042',
    };
    const { code, stdout, stderr } = await runServerToExit({ NODE_ENV: 'production', DATABASE_URL: `sqlite:${join(temp.dir, 'b.db')}`, ...values });
    expect(code).toBe(2);
    expect(stderr).toMatch(/KASISTO_SECRET values must be at least 16 characters/);
    expect(stderr).toMatch(/CREDENTIALS_KEY must be 32 bytes/);
    for (const setting of ['VERIFY_BASE_URL', 'VERIFY_PUBLIC_KEY', 'TLS_TERMINATED_BY_PROXY']) expect(stderr, setting).toContain(setting);
    expect(stderr).not.toMatch(/VERIFY_SECRET_KEY is required/);
    for (const value of Object.values(values)) {
      expect(stderr).not.toContain(value);
      expect(stdout).not.toContain(value);
    }
  });

  it('accepts TLS_TERMINATED_BY_PROXY=true instead of certificate files, naming only what is left', async () => {
    const { code, stderr } = await runServerToExit({
      NODE_ENV: 'production',
      DATABASE_URL: `sqlite:${join(temp.dir, 'c.db')}`,
      KASISTO_SECRET: TEST_SECRET,
      VERIFY_BASE_URL: 'http://127.0.0.1:1',
      VERIFY_SECRET_KEY: 'sk_test_production_check',
      VERIFY_PUBLIC_KEY: 'pk_test_production_check',
      TLS_TERMINATED_BY_PROXY: 'true',
      METRICS_TOKEN: 'metrics-token-for-production-0042',
      // only this one missing: the message names it and nothing else
    });
    expect(code).toBe(2);
    expect(stderr).toContain('CREDENTIALS_KEY is required in production');
    expect(stderr).not.toContain('TLS_');
    expect(stderr).not.toContain('KASISTO_SECRET');
    expect(stderr).not.toContain('sk_test_production_check');
  });
});

describe('NODE_ENV=production with every setting', () => {
  const cert = selfSignedCertificate(temp.dir);
  let base = '';
  let server: ReturnType<typeof startProcess>;

  beforeAll(async () => {
    server = startProcess('src/server.ts', {
      NODE_ENV: 'production',
      PORT: '0',
      DATABASE_URL: `sqlite:${join(temp.dir, 'prod.db')}`,
      KASISTO_SECRET: TEST_SECRET,
      CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
      VERIFY_BASE_URL: `http://127.0.0.1:${await closedPort()}`,
      VERIFY_SECRET_KEY: 'sk_test_production_start',
      VERIFY_PUBLIC_KEY: 'pk_test_production_start',
      METRICS_TOKEN: 'metrics-token-for-production-0042',
      VERIFY_RETRIES: '0',
      TLS_CERT_FILE: cert.certFile,
      TLS_KEY_FILE: cert.keyFile,
    });
    base = (await server.waitFor(/"address":"(https:\/\/127\.0\.0\.1:\d+)"/))[1]!;
  });

  it('starts, serves HTTPS and writes nothing but JSON log lines', async () => {
    expect(base).toMatch(/^https:/);
    const health = await send(`${base}/healthz`, { ca: cert.cert });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    const lines = server.stdout().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(server.stdout()).not.toContain(TEST_SECRET);
    expect(server.stdout()).not.toContain('Development secret');
  });

  it('is not ready while Verify is down, and says which dependency is', async () => {
    const ready = await send(`${base}/readyz`, { ca: cert.cert });
    expect(ready.status).toBe(503);
    const body = JSON.parse(ready.body);
    expect(body.down).toEqual(['verify']);
    expect(body.checks.store).toBe('ok');
    expect(body.message).toMatch(/verify/);
  });
});
