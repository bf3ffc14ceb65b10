/**
 * Real processes for the suites that need them (hardening, reliability, regressions):
 * `src/server.ts` (what `npm start` runs) and the standalone Verify sandbox, started with
 * `node --import tsx` (so signals, SIGKILL included, reach the server itself, not an npm or
 * npx wrapper), on port 0, with an explicit environment (the test runner's own NODE_ENV and
 * settings never leak in). Every process started here is killed by `stopAll()`, which each
 * suite calls in afterAll.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Fault } from '../../src/sandbox/faults.js';
import type { OperationId } from '../../src/sandbox/types.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr together, in the order they arrived. */
  output(): string;
  /** Resolves with the first match of `pattern` in the watched output, or rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL and wait until it is gone. */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** What waitFor searches: stdout only (the default), or stdout and stderr together. */
  watch?: 'stdout' | 'output';
  /** waitFor's timeout when the call gives none (default 45 s). */
  waitTimeoutMs?: number;
  /** Variables of the test runner's environment passed on besides PATH (e.g. TMPDIR). */
  inherit?: string[];
}

const running = new Set<ChildProcess>();

export function startProcess(script: string, env: Record<string, string>, options: StartOptions = {}): Running {
  const { watch = 'stdout', waitTimeoutMs = 45_000, inherit = [] } = options;
  const inherited = Object.fromEntries(inherit.flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    // ENV_FILE: a developer's .env in the project root must not reach the tests' servers
    env: { PATH: process.env['PATH'] ?? '', ENV_FILE: '/dev/null', ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  let all = '';
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    all += chunk.toString();
    notify();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    all += chunk.toString();
    if (watch === 'output') notify();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
      notify();
    });
  });
  const watched = () => (watch === 'stdout' ? out : all);
  const tail = () => (watch === 'stdout' ? `stdout: ${out.slice(-2000)} stderr: ${err.slice(-2000)}` : `output: ${all.slice(-2000)}`);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    output: () => all,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    waitFor: (pattern, timeoutMs = waitTimeoutMs) => waitForOutput(child, watched, listeners, pattern, timeoutMs, tail),
  };
}

/**
 * Resolves with the first match of `pattern` in what `read()` returns, checked again each time
 * a listener fires (new output, the exit); rejects when the process exits first or on timeout.
 */
export function waitForOutput(
  child: ChildProcess,
  read: () => string,
  listeners: Set<() => void>,
  pattern: RegExp,
  timeoutMs: number,
  tail: () => string,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern}; ${tail()}`)), timeoutMs);
    const check = () => {
      const match = pattern.exec(read());
      if (match) return done(undefined, match);
      if (child.exitCode !== null || child.signalCode !== null) done(new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${pattern}; ${tail()}`));
    };
    const done = (error?: Error, match?: RegExpMatchArray) => {
      clearTimeout(timer);
      listeners.delete(check);
      if (error) reject(error);
      else resolve(match!);
    };
    listeners.add(check);
    check();
  });
}

/** Kills whatever is still running (by pid) and waits for it to go. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Runs the server to completion (for configurations it must refuse). */
export async function runServerToExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const server = startProcess('src/server.ts', env);
  const { code } = await server.exited;
  return { code, stdout: server.stdout(), stderr: server.stderr() };
}

/** A temporary folder removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A self-signed certificate for 127.0.0.1, made with the openssl CLI. */
export function selfSignedCertificate(dir: string): { certFile: string; keyFile: string; cert: Buffer } {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const result = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr}`);
  return { certFile, keyFile, cert: readFileSync(certFile) };
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on its own connection (no keep-alive pool), over http or https. */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; ca?: Buffer; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const target = new URL(url);
  const make = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = make(
      target,
      {
        method: options.method ?? 'GET',
        headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
        agent: false,
        ...(options.ca ? { ca: options.ca } : {}),
        timeout: options.timeoutMs ?? 20_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The Kasisto secret and credentials key of every connector process started here. */
export const TEST_SECRET = 'process-test-secret-0123456789abcdef';
export const TEST_CREDENTIALS_KEY = 'ab'.repeat(32);

// ---- the reliability suites' sandbox and connectors ---------------------------------------
// Both watch stdout and stderr together and keep TMPDIR, as the crash and scale-out suites did.

const RELIABILITY: StartOptions = { watch: 'output', waitTimeoutMs: 30_000, inherit: ['TMPDIR'] };

export interface Answer {
  status: number;
  body: any;
  elapsedMs: number;
}

async function post(url: string, body: unknown, headers: Record<string, string>, timeoutMs = 30_000): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, elapsedMs: Math.round(performance.now() - started) };
}

export interface SandboxProcess {
  url: string;
  proc: Running;
  setFault(operation: OperationId | '*', fault: Fault): Promise<void>;
  clearFaults(): Promise<void>;
  stats(): Promise<{ total: number; calls: Record<OperationId, number> }>;
  /** Balances (minor units by currency) read through Verify's own API with a fresh session. */
  balances(login: string): Promise<Record<string, number>>;
}

/** The standalone Verify sandbox (src/sandbox/main.ts) with its control endpoint on. */
export async function startSandbox(): Promise<SandboxProcess> {
  const proc = startProcess('src/sandbox/main.ts', { SANDBOX_PORT: '0', SANDBOX_CONTROL: 'true', LOG_LEVEL: 'warn' }, RELIABILITY);
  const url = (await proc.waitFor(/Verify sandbox listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}/__sandbox${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`sandbox control ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const verify = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Token ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`Verify ${method} ${path}: ${res.status}`);
    return res.json() as Promise<any>;
  };
  return {
    url,
    proc,
    setFault: async (operation, fault) => void (await control('PUT', `/faults/${operation}`, fault)),
    clearFaults: async () => void (await control('DELETE', '/faults')),
    stats: () => control('GET', '/stats') as Promise<{ total: number; calls: Record<OperationId, number> }>,
    async balances(login) {
      const session = await verify('POST', '/sessions', 'sk_test_reliability', { currency: 'AED', amount: 1 });
      await verify('POST', `/sessions/${session.id}/login`, 'pk_test_reliability', { bank_id: 'test_bank', credentials: { login, password: 'test_pass' } });
      const accounts = (await verify('GET', `/sessions/${session.id}/bank_accounts`, 'pk_test_reliability')) as { currency: string; balance: number }[];
      return Object.fromEntries(accounts.map((a) => [a.currency, a.balance]));
    },
  };
}

// ---- connectors ---------------------------------------------------------------------------

export interface ConnectorProcess {
  /** e.g. http://127.0.0.1:40123/api */
  url: string;
  proc: Running;
  call(operation: string, body: unknown, headers?: Record<string, string>, timeoutMs?: number): Promise<Answer>;
  signIn(username?: string): Promise<{ userId: string; token: string }>;
  /** The JSON log lines, parsed (pino writes one per line). */
  logs(): Record<string, any>[];
}

export function connectorEnv(sandboxUrl: string, databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: '0',
    KASISTO_SECRET: TEST_SECRET,
    CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
    DATABASE_URL: databaseUrl,
    VERIFY_BASE_URL: sandboxUrl,
    VERIFY_SECRET_KEY: 'sk_test_reliability',
    VERIFY_PUBLIC_KEY: 'pk_test_reliability',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export async function startConnector(env: Record<string, string>): Promise<ConnectorProcess> {
  const proc = startProcess('src/server.ts', env, RELIABILITY);
  const url = (await proc.waitFor(/Kasisto connector listening on (http:\/\/127\.0\.0\.1:\d+\/\S*)/))[1]!;
  const call = (operation: string, body: unknown, headers: Record<string, string> = {}, timeoutMs?: number) =>
    post(`${url}/${operation}`, body, { secret: TEST_SECRET, ...headers }, timeoutMs);
  return {
    url,
    proc,
    call,
    async signIn(username = 'test') {
      const res = await call('token', { username, password: 'test_pass' });
      if (res.status !== 200) throw new Error(`sign-in of ${username}: ${res.status} ${JSON.stringify(res.body)}`);
      return { userId: res.body.user_id, token: res.body.token };
    },
    logs() {
      return proc
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, any>];
          } catch {
            return [];
          }
        });
    },
  };
}
