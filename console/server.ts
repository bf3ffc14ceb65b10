/**
 * Serves the operator console (the static files of console/) at /operator/console on the
 * operator listener. No dependency beyond Fastify: the files are few and small, so they are
 * read once at registration into memory and served from a map keyed by their path. A
 * request can only ever name one of those keys, which is what makes path traversal
 * impossible (`..`, encoded or not, matches no key and answers 404).
 *
 *   await operatorApp.register(consolePlugin);            // GET /operator/console/
 *
 * Every answer carries a strict CSP (no inline script or style, same origin only) and
 * `cache-control: no-cache` with an ETag: there is no build step and so no hashed file
 * names, so the browser revalidates each file (a 304 costs a few bytes).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROJECT_ROOT } from '../src/paths.js';

export const CONSOLE_PREFIX = '/operator/console';

export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

/** Headers of every console answer, including 404s. */
export const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

export interface ConsolePluginOptions {
  /** The folder of the console's files; default `<project>/console`. */
  root?: string;
}

/** The servable files below root (by extension; server.ts, README.md and dotfiles are not). */
export function loadAssets(root: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const type = CONTENT_TYPES[extname(entry.name)];
        if (!type) continue;
        const body = readFileSync(path);
        const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
        assets.set(relative(root, path).split(sep).join('/'), { body, type, etag });
      }
    }
  };
  walk(root);
  return assets;
}

export async function consolePlugin(app: FastifyInstance, options: ConsolePluginOptions = {}): Promise<void> {
  const root = options.root ?? join(PROJECT_ROOT, 'console');
  // a deployment that left the console's files out fails at start-up, saying where it looked
  if (!existsSync(join(root, 'index.html'))) throw new Error(`console: no index.html in ${root} (the console/ folder must be deployed beside dist/)`);
  const assets = loadAssets(root);

  const send = (request: FastifyRequest, reply: FastifyReply, name: string) => {
    reply.headers(CONSOLE_HEADERS);
    const asset = assets.get(name);
    if (!asset) return reply.code(404).type('application/json').send({ code: 'not_found', message: `There is no console file ${name.slice(0, 100)}` });
    reply.header('cache-control', 'no-cache').header('etag', asset.etag);
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  };

  // The console's own routes: its pages are one document (hash routing), so only index.html
  // and the files it loads are ever asked for.
  app.get(CONSOLE_PREFIX, (request, reply) => send(request, reply, 'index.html'));
  app.get(`${CONSOLE_PREFIX}/`, (request, reply) => send(request, reply, 'index.html'));
  app.get(`${CONSOLE_PREFIX}/*`, (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    return send(request, reply, name);
  });
}
