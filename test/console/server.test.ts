// The console plugin on its own: what it serves, with which headers, and what it refuses.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, consolePlugin } from '../../console/server.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = Fastify({ logger: false });
  await app.register(consolePlugin);
  await app.ready();
});
afterAll(() => app.close());

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

describe('console plugin', () => {
  it('serves index.html at /operator/console and /operator/console/ with the strict CSP', async () => {
    for (const url of ['/operator/console', '/operator/console/', '/operator/console/index.html']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('<script type="module" src="/operator/console/js/app.js"></script>');
      expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cache-control']).toBe('no-cache');
    }
    expect(CONSOLE_CSP).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
  });

  it('serves scripts and styles with their content types, and revalidates by ETag', async () => {
    const js = await get('/operator/console/js/app.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const css = await get('/operator/console/styles.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const etag = String(js.headers.etag);
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const again = await get('/operator/console/js/app.js', { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('refuses path traversal, plain or encoded, and files that are not the console', async () => {
    for (const url of [
      '/operator/console/../package.json',
      '/operator/console/..%2f..%2fpackage.json',
      '/operator/console/%2e%2e/%2e%2e/package.json',
      '/operator/console/js/../../package.json',
      '/operator/console/server.ts',
      '/operator/console/README.md',
      '/operator/console//etc/passwd',
      '/operator/console/js/%2e%2e%2f%2e%2e%2fsrc%2fconfig.ts',
    ]) {
      const res = await get(url);
      expect([400, 404], url).toContain(res.statusCode);
      expect(res.body, url).not.toContain('"dependencies"');
      expect(res.body, url).not.toContain('import ');
    }
    const missing = await get('/operator/console/nope.js');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ code: 'not_found', message: 'There is no console file nope.js' });
    expect(missing.headers['content-security-policy']).toBe(CONSOLE_CSP);
  });

  it('has no inline script or style in its page, and no external URL in any file', async () => {
    const html = (await get('/operator/console/')).body;
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    for (const file of ['js/app.js', 'js/api.js', 'js/view.js', 'js/money.js', 'styles.css', 'index.html']) {
      const body = (await get(`/operator/console/${file}`)).body;
      expect(body, file).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
      expect(body, file).not.toMatch(/\b(localStorage|sessionStorage)\s*[.[]|document\.cookie|\.innerHTML\b/);
    }
  });
});
