/**
 * Real process trees for the production suites: a command (npm, node) started in its own
 * process group, its descendants read from /proc while it runs, and checks that every one
 * of them is gone afterwards. Linux only (/proc), like the CI machines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { ROOT, waitForOutput } from '../helpers/processes.js';

export interface Tree {
  child: ChildProcess;
  output(): string;
  /** Both pipes read to their end (every process holding them has exited). */
  drained: Promise<void>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The descendants seen so far (pid → command line), read again on each call. */
  descendants(): Map<number, string>;
}

const started = new Set<ChildProcess>();

/** Starts `command args` in ROOT as the leader of a new process group, with only `env` (plus PATH and HOME). */
export function startTree(command: string, args: string[], env: Record<string, string>, cwd = ROOT): Tree {
  const child = spawn(command, args, {
    cwd,
    detached: true, // its own process group, so the group can be signalled as a supervisor would
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', npm_config_update_notifier: 'false', ENV_FILE: '/dev/null', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  // the last lines can still be in the pipes when the processes are gone: read to the end
  const drained = Promise.all([child.stdout!, child.stderr!].map((stream) => new Promise<void>((resolve) => stream.once('close', () => resolve()))));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      started.delete(child);
      resolve({ code, signal });
      for (const l of listeners) l();
    });
  });
  const seen = new Map<number, string>();
  return {
    child,
    output: () => out,
    exited,
    drained: drained.then(() => undefined),
    descendants() {
      for (const [pid, cmd] of descendantsOf(child.pid!)) seen.set(pid, cmd);
      return new Map(seen);
    },
    waitFor: (pattern, timeoutMs = 90_000) => waitForOutput(child, () => out, listeners, pattern, timeoutMs, () => `output: ${out.slice(-3000)}`),
  };
}

/** pid → command line of every live descendant of `root`. */
export function descendantsOf(root: number): Map<number, string> {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = safeRead(`/proc/${name}/stat`);
    if (!stat) continue;
    // the command name (field 2) may contain spaces and parentheses: fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parent.set(Number(name), Number(fields[1]));
  }
  const found = new Map<number, string>();
  const walk = (pid: number) => {
    for (const [child, ppid] of parent) {
      if (ppid === pid && !found.has(child)) {
        found.set(child, (safeRead(`/proc/${child}/cmdline`) ?? '').split('\0').join(' ').trim());
        walk(child);
      }
    }
  };
  walk(root);
  return found;
}

/** The pids of `pids` still running (a zombie waiting for init to reap it has stopped running). */
export function stillRunning(pids: Iterable<number>): number[] {
  return [...pids].filter((pid) => {
    const stat = safeRead(`/proc/${pid}/stat`);
    if (!stat) return false;
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  });
}

/** Waits until none of `pids` runs, or `timeoutMs` passes; returns those still running. */
export async function waitGone(pids: Iterable<number>, timeoutMs = 15_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = stillRunning(pids);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = stillRunning(left);
  }
  return left;
}

/** A port nothing listens on right now (for tools that cannot take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Kills (SIGKILL, by process group) whatever a failed test left running. */
export function killAllTrees(): void {
  for (const child of started) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export function exists(path: string): boolean {
  return existsSync(path);
}

function safeRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
