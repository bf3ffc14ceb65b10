/**
 * Harness of the console's browser tests: the console host (scripts/lib/console-host.ts: the
 * console plugin, and under /operator/v1 a proxy to Prism serving the contract or to the real
 * operator listener), and Debian's Chromium driven by playwright-core with guards that fail
 * a test on any request leaving 127.0.0.1, any CSP violation and any uncaught page error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';
import { API_PREFIX } from '../../scripts/lib/console-host.js';

export { API_PREFIX, startConsoleHost, type ConsoleHost, type EmulatedKey } from '../../scripts/lib/console-host.js';

// Names of the page's world, used only inside callbacks that run in the browser.
declare const document: any;

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

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
