/**
 * Starts Prism (`prism mock`, static examples, offline) on a free loopback port as a child
 * process, for tests that need a stateless mock of one of our contracts.
 *
 *   const prism = await startPrism('spec/verify.yaml');
 *   const client = createClient<paths>({ baseUrl: prism.url });
 *   ...
 *   await prism.stop();
 *
 * - Only 127.0.0.1 is ever used.
 * - Prism is started in its own process group (detached) and stop() signals the whole
 *   group: SIGTERM, then SIGKILL after a grace period. A process 'exit' hook SIGKILLs any
 *   group still alive when the test worker exits without calling stop().
 * - Start-up waits until Prism answers HTTP; a timeout, an early exit or a port clash
 *   (retried on another port) report Prism's own output in the error.
 * - Prism ignores a spec's relative server URL (`servers: [{url: /api}]`) and serves the
 *   bare paths. So, like `npm run mock:kasisto` (scripts/mock.sh), we hand Prism a temporary
 *   JSON copy of the spec whose paths carry that prefix (`/api/token`), and `url` includes
 *   it (`http://127.0.0.1:PORT/api`), so a client uses the same base URL as against the
 *   real connector.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const HOST = '127.0.0.1';
const OUTPUT_LIMIT = 64 * 1024;

export interface StartPrismOptions {
  /** Port to listen on; default: a free port chosen at random (retried on a clash). */
  port?: number;
  /**
   * Path prefix for every operation. Default: the path of the spec's first server URL when
   * that URL is relative (Kasisto: `/api`), else none. `''` serves the bare paths.
   */
  basePath?: string;
  /** How long to wait for Prism to answer; default 30 s (two cores, under load). */
  startupTimeoutMs?: number;
  /** Prism's log level; default `info` (the tail of it ends up in error messages). */
  verboseLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** Extra arguments for `prism mock`, e.g. `['--errors']`. `--dynamic` is never added. */
  extraArgs?: string[];
}

export interface PrismServer {
  /** Base URL of the API, including the base path: `http://127.0.0.1:PORT[/api]`. */
  url: string;
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  port: number;
  basePath: string;
  /** The spec file Prism actually serves (a temporary copy when a base path is applied). */
  servedSpec: string;
  /** The last 64 KiB of Prism's stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

/** Asks the OS for a free port on 127.0.0.1 (the port is released before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const address = srv.address();
      srv.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

/** The path of a spec's first server URL when it is relative (`/api`), else ''. */
export function relativeServerPath(doc: unknown): string {
  const servers = (doc as { servers?: Array<{ url?: unknown }> } | null)?.servers;
  const url = servers?.[0]?.url;
  if (typeof url !== 'string' || !url.startsWith('/')) return '';
  return url.replace(/\/+$/, '');
}

/** Returns a copy of an OpenAPI document whose `paths` keys all start with `prefix`. */
export function prefixPaths<T extends { paths?: Record<string, unknown> }>(doc: T, prefix: string): T {
  if (!prefix || !doc.paths) return doc;
  const paths: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(doc.paths)) paths[prefix + key] = item;
  return { ...doc, paths };
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL');
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function prismEntry(): string {
  // node_modules/.bin/prism is a symlink to the CLI's JS entry; run it with this very node.
  return realpathSync(join(PROJECT_ROOT, 'node_modules/.bin/prism'));
}

class StartError extends Error {
  constructor(
    message: string,
    readonly portClash: boolean,
  ) {
    super(message);
  }
}

export async function startPrism(specPath: string, opts: StartPrismOptions = {}): Promise<PrismServer> {
  const absSpec = resolve(PROJECT_ROOT, specPath);
  const doc = parse(readFileSync(absSpec, 'utf8')) as { paths?: Record<string, unknown> };
  const basePath = (opts.basePath ?? relativeServerPath(doc)).replace(/\/+$/, '');
  if (basePath && !basePath.startsWith('/')) throw new Error(`basePath must start with '/': ${basePath}`);

  let tmpDir: string | undefined;
  let servedSpec = absSpec;
  if (basePath) {
    tmpDir = mkdtempSync(join(tmpdir(), 'prism-spec-'));
    servedSpec = join(tmpDir, basename(absSpec).replace(/\.ya?ml$/i, '') + '.json');
    writeFileSync(servedSpec, JSON.stringify(prefixPaths(doc, basePath), null, 2));
  }
  const cleanupTmp = () => {
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  };

  const attempts = opts.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      const server = await launch(servedSpec, port, opts);
      const origin = `http://${HOST}:${port}`;
      return {
        url: origin + basePath,
        origin,
        port,
        basePath,
        servedSpec,
        output: server.output,
        stop: async () => {
          try {
            await server.stop();
          } finally {
            cleanupTmp();
          }
        },
      };
    } catch (err) {
      lastError = err;
      if (!(err instanceof StartError && err.portClash)) break;
    }
  }
  cleanupTmp();
  throw lastError;
}

async function launch(
  servedSpec: string,
  port: number,
  opts: StartPrismOptions,
): Promise<{ output(): string; stop(): Promise<void> }> {
  const args = [
    prismEntry(),
    'mock',
    '-h',
    HOST,
    '-p',
    String(port),
    '-v',
    opts.verboseLevel ?? 'info',
    ...(opts.extraArgs ?? []).filter((a) => a !== '--dynamic' && a !== '-d'),
    servedSpec,
  ];
  return spawnServer({
    command: process.execPath,
    args,
    port,
    what: `Prism for ${servedSpec}`,
    ...(opts.startupTimeoutMs === undefined ? {} : { startupTimeoutMs: opts.startupTimeoutMs }),
  });
}

export interface SpawnServerOptions {
  command: string;
  args: string[];
  /** Loopback port the process will listen on; readiness is polled there over HTTP. */
  port: number;
  /** For error messages, e.g. `Prism for spec/verify.yaml`. */
  what?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  startupTimeoutMs?: number;
}

export interface SpawnedServer {
  /** The last 64 KiB of the process's stdout and stderr. */
  output(): string;
  /** SIGTERM to the process group, SIGKILL after 5 s; resolves once the process is gone. */
  stop(): Promise<void>;
}

/**
 * Spawns a server process in its own process group and resolves once
 * http://127.0.0.1:PORT answers any HTTP request. Rejects (after killing the group) when the
 * process exits first or the timeout passes, with the process's output in the message.
 */
export async function spawnServer(o: SpawnServerOptions): Promise<SpawnedServer> {
  const what = o.what ?? o.command;
  const child = spawn(o.command, o.args, {
    cwd: o.cwd ?? PROJECT_ROOT,
    detached: true, // own process group: stop() kills the process and anything it forks
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...(o.env ?? process.env), NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  installExitHook();
  running.add(child);

  let out = '';
  const append = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > OUTPUT_LIMIT * 2) out = out.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const output = () => out.slice(-OUTPUT_LIMIT);

  const state: { exited: boolean; exitInfo: string; spawnError?: Error } = { exited: false, exitInfo: '' };
  const exitPromise = new Promise<void>((res) => {
    child.once('exit', (code, signal) => {
      state.exited = true;
      state.exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      running.delete(child);
      res();
    });
  });
  child.once('error', (err) => {
    state.spawnError = err;
  });

  const stop = async () => {
    if (!state.exited) {
      killGroup(child, 'SIGTERM');
      const done = await Promise.race([
        exitPromise.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 5_000).unref()),
      ]);
      if (!done) {
        killGroup(child, 'SIGKILL');
        await exitPromise;
      }
    }
    // Children of the process (a shell's Prism, Prism's forks) may outlive it: end the group.
    killGroup(child, 'SIGKILL');
  };

  const timeoutMs = o.startupTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const origin = `http://${HOST}:${o.port}`;
  for (;;) {
    if (state.spawnError || state.exited) {
      const text = output();
      await stop();
      throw new StartError(
        `${what} exited before answering (${state.spawnError?.message ?? state.exitInfo}) on ${origin}.\n` +
          `--- output ---\n${text}`,
        /EADDRINUSE/.test(text),
      );
    }
    try {
      // Any HTTP answer (Prism says 404 for an unknown path) means it is up.
      const res = await fetch(`${origin}/__ready_probe`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      return { output, stop };
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      const text = output();
      await stop();
      throw new StartError(
        `${what} did not answer on ${origin} within ${timeoutMs} ms.\n--- output ---\n${text}`,
        /EADDRINUSE/.test(text),
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
