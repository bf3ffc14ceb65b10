/**
 * Real processes for the crash and scale-out suites: the standalone Verify sandbox
 * (src/sandbox/main.ts, control endpoint on) and connectors (src/server.ts, what
 * `npm start` runs), each started with `node --import tsx` so a SIGKILL hits the server
 * itself and not a wrapper, on port 0, on 127.0.0.1, with an explicit environment. Every
 * process started here is killed by `stopAll()`, which each suite calls in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Fault } from '../../src/sandbox/faults.js';
import type { OperationId } from '../../src/sandbox/types.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SECRET = 'reliability-secret-0123456789abcdef';
export const CREDENTIALS_KEY = '0f'.repeat(32);

const alive = new Set<ChildProcess>();

export interface Proc {
  child: ChildProcess;
  out(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<void>;
  /** SIGKILL and wait until it is gone. */
  kill(): Promise<void>;
}

function start(script: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...(process.env['TMPDIR'] ? { TMPDIR: process.env['TMPDIR'] } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  alive.add(child);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => {
    child.on('exit', () => {
      alive.delete(child);
      for (const listener of listeners) listener();
      resolve();
    });
  });
  return {
    child,
    out: () => out,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern}: ${out.slice(-1500)}`)), timeoutMs);
        const check = () => {
          const match = pattern.exec(out);
          if (match) return finish(undefined, match);
          if (child.exitCode !== null || child.signalCode !== null) finish(new Error(`exited before ${pattern}: ${out.slice(-1500)}`));
        };
        const finish = (error?: Error, match?: RegExpMatchArray) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve(match!);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Kills whatever is still running (afterAll). */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...alive].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

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

// ---- the Verify sandbox -------------------------------------------------------------------

export interface SandboxProcess {
  url: string;
  proc: Proc;
  setFault(operation: OperationId | '*', fault: Fault): Promise<void>;
  clearFaults(): Promise<void>;
  stats(): Promise<{ total: number; calls: Record<OperationId, number> }>;
  /** Balances (minor units by currency) read through Verify's own API with a fresh session. */
  balances(login: string): Promise<Record<string, number>>;
}

export async function startSandbox(): Promise<SandboxProcess> {
  const proc = start('src/sandbox/main.ts', { SANDBOX_PORT: '0', SANDBOX_CONTROL: 'true', LOG_LEVEL: 'warn' });
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
  proc: Proc;
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
    KASISTO_SECRET: SECRET,
    CREDENTIALS_KEY,
    DATABASE_URL: databaseUrl,
    VERIFY_BASE_URL: sandboxUrl,
    VERIFY_SECRET_KEY: 'sk_test_reliability',
    VERIFY_PUBLIC_KEY: 'pk_test_reliability',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export async function startConnector(env: Record<string, string>): Promise<ConnectorProcess> {
  const proc = start('src/server.ts', env);
  const url = (await proc.waitFor(/Kasisto connector listening on (http:\/\/127\.0\.0\.1:\d+\/\S*)/))[1]!;
  const call = (operation: string, body: unknown, headers: Record<string, string> = {}, timeoutMs?: number) =>
    post(`${url}/${operation}`, body, { secret: SECRET, ...headers }, timeoutMs);
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
        .out()
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
