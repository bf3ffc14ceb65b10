/**
 * Harness of the console's browser tests: a console host (a Fastify app with the console
 * plugin, and under /operator/v1 a proxy to an operator API: Prism serving the contract, or
 * the real connector's operator listener), and Debian's Chromium driven by playwright-core
 * with guards that fail a test on any request leaving 127.0.0.1, any CSP violation and any
 * uncaught page error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';
import { consolePlugin } from '../../console/server.js';

// Names of the page's world, used only inside callbacks that run in the browser.
declare const document: any;

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const API_PREFIX = '/operator/v1';

/** A key of the role-emulating front for Prism (Prism itself accepts any Bearer key). */
export interface EmulatedKey {
  name: string;
  role: 'viewer' | 'settler';
  key: string;
}

/** Operations a viewer may not call: the contract's settler-only operations (every POST). */
function settlerOnly(method: string, path: string): boolean {
  return method === 'POST' && /^\/(batches(\/[^/]+\/paid)?|obligations\/[^/]+\/returned|reconciliations)$/.test(path);
}

export interface ConsoleHost {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Serves the console and proxies /operator/v1/* to `upstream` (an origin + /operator/v1).
 * With `emulate`, the proxy plays the contract's key rules in front of Prism: an unknown
 * key gets Prism's 401 example, a viewer calling a settler operation its 403 `viewer`
 * example (`Prefer: code=…`); the request still reaches Prism, which checks it against the
 * contract.
 */
export async function startConsoleHost(upstream: string, emulate?: EmulatedKey[]): Promise<ConsoleHost> {
  const app = Fastify({ logger: false });
  await app.register(consolePlugin);
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.all(`${API_PREFIX}/*`, async (request, reply) => {
    const target = new URL(upstream.replace(/\/$/, '') + request.url.slice(API_PREFIX.length));
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'content-type', 'accept']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (emulate) {
      const presented = headers.authorization?.replace(/^Bearer /i, '');
      const key = emulate.find((k) => k.key === presented);
      if (!key) headers.prefer = 'code=401';
      // Refused before the body is looked at, as the real API does (Prism would check the
      // body first and answer its 400 for an invalid one).
      else if (key.role === 'viewer' && settlerOnly(request.method, request.url.slice(API_PREFIX.length).split('?')[0]!))
        return reply.code(403).send({ code: 'forbidden', message: `this operation needs role settler; key ${key.name} has role viewer` });
    }
    const body = request.body instanceof Buffer && request.body.length > 0 ? request.body : undefined;
    const res = await fetch(target, { method: request.method, headers, body, redirect: 'manual' });
    reply.code(res.status);
    for (const name of ['content-type', 'content-disposition', 'location', 'cache-control']) {
      const value = res.headers.get(name);
      if (value) reply.header(name, value);
    }
    return reply.send(Buffer.from(await res.arrayBuffer()));
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, app, close: () => app.close() };
}

export interface Browser {
  context: BrowserContext;
  /** Requests refused for leaving loopback, CSP violations and page errors, in order. */
  problems: string[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function loopback(url: string): boolean {
  if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return true;
  try {
    return new URL(url).hostname === '127.0.0.1';
  } catch {
    return false;
  }
}

/** Chromium with a fresh profile; every page gets the guards. */
export async function launchBrowser(viewport = { width: 1280, height: 900 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'console-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: LAUNCH_ARGS,
    viewport,
    acceptDownloads: true,
  });
  const problems: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (loopback(url)) return route.continue();
    problems.push(`request left 127.0.0.1: ${url}`);
    return route.abort('blockedbyclient');
  });
  // Reported by the page itself (the init script runs outside the page's CSP).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e: any) => console.error(`securitypolicyviolation ${e.violatedDirective} ${e.blockedURI}`));
  });
  const watch = (page: Page) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /securitypolicyviolation|Content Security Policy/i.test(msg.text())) problems.push(`CSP: ${msg.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  };
  context.on('page', watch);
  for (const page of context.pages()) watch(page);
  return {
    context,
    problems,
    async newPage() {
      const page = await context.newPage();
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string | null;
}

/** Records the operator API requests a page makes. */
export function recordApiRequests(page: Page): SeenRequest[] {
  const seen: SeenRequest[] = [];
  page.on('request', (request: Request) => {
    const url = new URL(request.url());
    if (!url.pathname.startsWith(API_PREFIX)) return;
    seen.push({ method: request.method(), path: url.pathname.slice(API_PREFIX.length) + url.search, authorization: request.headers().authorization, body: request.postData() });
  });
  return seen;
}

/** Signs in through the form and waits for the dashboard. */
export async function signIn(page: Page, consoleUrl: string, key: string): Promise<void> {
  await page.goto(`${consoleUrl}/operator/console/`);
  await page.getByLabel('Operator key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
}
