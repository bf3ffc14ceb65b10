/**
 * With TLS_CERT_FILE and TLS_KEY_FILE the real server process serves HTTPS only: a full
 * Kasisto call works over TLS (certificate made at test time, trusted as the CA), HSTS is
 * sent, and plain HTTP to the same port gets no answer.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate, send, startProcess, stopAll, tempDir, TEST_CREDENTIALS_KEY, TEST_SECRET } from '../helpers/processes.js';

const temp = tempDir('hardening-https-');
const cert = selfSignedCertificate(temp.dir);
let base = '';

beforeAll(async () => {
  const server = startProcess('src/server.ts', {
    PORT: '0',
    DATABASE_URL: `sqlite:${join(temp.dir, 'connector.db')}`,
    KASISTO_SECRET: TEST_SECRET,
    CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
    TLS_CERT_FILE: cert.certFile,
    TLS_KEY_FILE: cert.keyFile,
    LOG_LEVEL: 'warn',
  });
  base = (await server.waitFor(/listening on (https:\/\/127\.0\.0\.1:\d+)/))[1]!;
});
afterAll(async () => {
  await stopAll();
  temp.remove();
});

describe('HTTPS', () => {
  it('serves the Kasisto API over TLS, with HSTS', async () => {
    const res = await send(`${base}/api/token`, {
      method: 'POST',
      ca: cert.cert,
      headers: { secret: TEST_SECRET },
      body: JSON.stringify({ username: 'test', password: 'test_pass' }),
    });
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body)).toHaveProperty('token');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refuses a certificate the client does not trust (it is really TLS, verified)', async () => {
    await expect(send(`${base}/healthz`)).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('answers nothing to plain HTTP on the same port', async () => {
    const plain = base.replace('https:', 'http:');
    const outcome = await send(`${plain}/healthz`, { timeoutMs: 10_000 }).then(
      (res) => `answered ${res.status}`,
      (error: Error) => `failed: ${error.message}`,
    );
    expect(outcome).toMatch(/^failed/);
  });
});
