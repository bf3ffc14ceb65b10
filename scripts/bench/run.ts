/**
 * `npm run bench`: how much the connector costs next to bare Fastify, on loopback.
 *
 *   (a) bare Fastify answering /api/accounts with the connector's own body: the ceiling
 *   (b) the connector's /api/accounts, valid token, accounts cache warm, embedded sandbox
 *   (c) the connector's /api/transactions, limit 50, over a ledger of 1,000 movements
 *   (d) Prism's static mock of /api/accounts (what a partner would stand up instead)
 *   + the Verify economy of one scripted conversation (scripts/bench/conversation.ts)
 *   + a leak check: RSS of (b) over BENCH_LEAK_SECONDS under load must stay flat
 *
 * Each server runs in its own child process (scripts/bench/servers/*.ts): its RSS is read
 * from /proc/<pid>/status while autocannon (in this process) loads it. Results go to
 * bench/results.json and bench/results.md.
 *
 * Settings (env): BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 3), BENCH_CONNECTIONS (10),
 * BENCH_LEAK_SECONDS (60; 0 skips), BENCH_LEAK_WARMUP (s, 5), BENCH_LEAK_THRESHOLD_MB (5),
 * BENCH_LOG_FILE (/dev/null), BENCH_CPU_PROF=1 (node --cpu-prof into bench/profiles/),
 * BENCH_STRICT=1 (exit 1 when a target is missed). Flags: --only=a,b,c,d,economy,
 * BENCH_NODE_ARGS and BENCH_CONNECTOR_ENV (comma-separated K=V) for experiments;
 * --leak-only, --no-write (keep bench/results.* as they are), --render (results.md again from
 * results.json, baseline.json and notes.md, without measuring).
 *
 * --conversations (`npm run bench:conversations`): the conversation scenarios instead
 * (scripts/bench/conversations.ts), written to results.json's `conversations` array (the
 * micro benchmark's results are kept); with --smoke, a 20-second run that fails (exit 1) on
 * errors or lost movements and writes nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon, { type Result } from 'autocannon';
import { runConversation, type Turn } from './conversation.js';
import { conversationsMarkdown, runConversations, type ConversationPoint } from './conversations.js';

const ROOT = resolve(import.meta.dirname, '../..');
const env = process.env;
const num = (value: string | undefined, fallback: number) => (value === undefined || value === '' ? fallback : Number(value));
const DURATION = num(env.BENCH_DURATION, 10);
const WARMUP = num(env.BENCH_WARMUP, 3);
const CONNECTIONS = num(env.BENCH_CONNECTIONS, 10);
const LEAK_SECONDS = num(env.BENCH_LEAK_SECONDS, 60);
const LEAK_WARMUP = num(env.BENCH_LEAK_WARMUP, 5);
const LEAK_THRESHOLD_MB = num(env.BENCH_LEAK_THRESHOLD_MB, 5);
const LOG_FILE = env.BENCH_LOG_FILE ?? '/dev/null';
const CPU_PROF = env.BENCH_CPU_PROF === '1';
const STRICT = env.BENCH_STRICT === '1';
// The default limits (600/min per token) would answer 429 within a second of load.
const RATE_LIMIT = '1000000000';
const LEDGER_ROWS = 1000;

const args = process.argv.slice(2);
const leakOnly = args.includes('--leak-only');
const write = !args.includes('--no-write');
const onlyArg = args.find((a) => a.startsWith('--only='));
const only = new Set((onlyArg ? onlyArg.slice(7) : 'a,b,c,d,economy').split(','));
if (leakOnly) for (const k of [...only]) only.delete(k);

// ---- child processes ------------------------------------------------------------------

interface Server {
  name: string;
  pid: number;
  origin: string;
  /** The server's ready line (`{"port":N,…}`). */
  ready: { port: number; [k: string]: unknown };
  /** Heap in use after a full GC (connector servers, run with --expose-gc), in MB. */
  heapAfterGc(): Promise<number | undefined>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}

async function startServer(name: string, script: string, extraEnv: Record<string, string>): Promise<Server> {
  const profDir = join(ROOT, 'bench/profiles');
  if (CPU_PROF) mkdirSync(profDir, { recursive: true });
  const extraNodeArgs = (env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean); // experiments, e.g. "--trace-gc"
  const nodeArgs = ['--import', 'tsx', '--expose-gc', ...extraNodeArgs, ...(CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []), script];
  const childEnv: NodeJS.ProcessEnv = { ...env, ...extraEnv };
  delete childEnv.NODE_ENV; // Prism forks itself under production; the connector would refuse the sandbox
  const child = spawn(process.execPath, nodeArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
  children.add(child);
  let errTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    errTail = (errTail + chunk.toString('utf8')).slice(-8192);
  });
  const exited = new Promise<void>((ok) => child.once('exit', () => (children.delete(child), ok())));
  let out = '';
  const heapWaiters: ((mb: number | undefined) => void)[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    let newline: number;
    while ((newline = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, newline);
      out = out.slice(newline + 1);
      if (line.startsWith('{"heapUsedAfterGcMb"')) {
        const report = JSON.parse(line) as { heapUsedAfterGcMb: number; gc: boolean };
        heapWaiters.shift()?.(report.gc ? report.heapUsedAfterGcMb : undefined);
      } else if (line.startsWith('{"port"')) {
        child.stdout!.emit('ready', JSON.parse(line) as { port: number });
      }
    }
  });
  const ready = await new Promise<{ port: number; [k: string]: unknown }>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start within 90 s:\n${errTail}`)), 90_000);
    child.stdout!.once('ready', (p: { port: number }) => {
      clearTimeout(timer);
      ok(p);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${name} exited (${code}) before it was ready:\n${errTail}`));
    });
  });
  return {
    name,
    pid: child.pid!,
    origin: `http://127.0.0.1:${ready.port}`,
    ready,
    heapAfterGc() {
      return new Promise((ok) => {
        const timer = setTimeout(() => ok(undefined), 5_000);
        heapWaiters.push((mb) => (clearTimeout(timer), ok(mb)));
        child.kill('SIGUSR2');
      });
    },
    async stop() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** CPU time (user + system) a process has used, in seconds (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident set size of a process, in MB. */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

function sampleRss(pid: number, everyMs: number) {
  const samples: { t: number; mb: number }[] = [];
  const start = Date.now();
  const timer = setInterval(() => {
    try {
      samples.push({ t: (Date.now() - start) / 1000, mb: rssMb(pid) });
    } catch {
      /* the process is gone */
    }
  }, everyMs);
  return () => {
    clearInterval(timer);
    return samples;
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

// ---- HTTP -----------------------------------------------------------------------------

const SECRET = `bench-${randomBytes(12).toString('hex')}`;

interface Target {
  url: string;
  headers: Record<string, string>;
  body: string;
}

async function post(url: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Signs in the sandbox user `test` over HTTP and warms the accounts cache. */
async function signIn(server: Server): Promise<{ userId: string; headers: Record<string, string> }> {
  const res = await post(`${server.origin}/api/token`, { secret: SECRET }, { username: 'test', password: 'test_pass' });
  if (res.status !== 200) throw new Error(`${server.name}: sign-in answered ${res.status}: ${res.text}`);
  const { user_id: userId, token } = res.json as { user_id: string; token: string };
  const headers = { 'content-type': 'application/json', secret: SECRET, token };
  const warm = await post(`${server.origin}/api/accounts`, headers, { user_id: userId });
  if (warm.status !== 200) throw new Error(`${server.name}: /accounts answered ${warm.status}: ${warm.text}`);
  return { userId, headers };
}

export interface Measurement {
  label: string;
  rps: number;
  p50: number;
  p99: number;
  rssMedianMb: number;
  rssMaxMb: number;
  /** Server CPU time per request: less disturbed by other load on the machine than req/s. */
  cpuUsPerRequest: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function load(target: Target, seconds: number): Promise<Result> {
  return autocannon({ url: target.url, method: 'POST', headers: target.headers, body: target.body, connections: CONNECTIONS, pipelining: 1, duration: seconds, timeout: 10 });
}

async function measure(label: string, server: Server, target: Target): Promise<Measurement> {
  process.stdout.write(`  ${label}: warm-up ${WARMUP} s, then ${DURATION} s at ${CONNECTIONS} connections… `);
  if (WARMUP > 0) await load(target, WARMUP);
  const stop = sampleRss(server.pid, 250);
  const cpuBefore = cpuSeconds(server.pid);
  const r = await load(target, DURATION);
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  const rss = stop().map((s) => s.mb);
  const m: Measurement = {
    label,
    rps: round(r.requests.average, 0),
    p50: r.latency.p50,
    p99: r.latency.p99,
    rssMedianMb: round(median(rss), 1),
    rssMaxMb: round(Math.max(...rss), 1),
    cpuUsPerRequest: round((cpu * 1e6) / Math.max(1, r.requests.total), 0),
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
  process.stdout.write(`${m.rps} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, RSS ${m.rssMedianMb} MB, CPU ${m.cpuUsPerRequest} µs/req, non-2xx ${m.non2xx}, errors ${m.errors}\n`);
  return m;
}

interface LeakReport {
  seconds: number;
  firstMedianMb: number;
  lastMedianMb: number;
  growthMb: number;
  maxMb: number;
  /** Heap in use after a full GC, before and after the window (the retained-memory view). */
  heapAfterGcStartMb?: number;
  heapAfterGcEndMb?: number;
  thresholdMb: number;
  non2xx: number;
  errors: number;
  rps: number;
  pass: boolean;
  samples: { t: number; mb: number }[];
}

/**
 * RSS of (b) under load for LEAK_SECONDS after a warm-up: last 10 s vs first 10 s. The window
 * opens with a full GC: without it, the first minute under load shows V8 growing its old
 * generation toward a limit set while idle (start-up), a ramp that is not a leak and ends at
 * the first major GC. The heap in use after a full GC at both ends is reported beside.
 */
async function leakCheck(server: Server, target: Target): Promise<LeakReport> {
  process.stdout.write(`  leak check: warm-up ${LEAK_WARMUP} s, full GC, then ${LEAK_SECONDS} s of (b), RSS every second… `);
  if (LEAK_WARMUP > 0) await load(target, LEAK_WARMUP);
  const heapStart = await server.heapAfterGc();
  const stop = sampleRss(server.pid, 1000);
  const r = await load(target, LEAK_SECONDS);
  const samples = stop();
  const heapEnd = await server.heapAfterGc();
  const window = Math.min(10, LEAK_SECONDS / 3);
  const first = samples.filter((s) => s.t <= window).map((s) => s.mb);
  const last = samples.filter((s) => s.t > LEAK_SECONDS - window).map((s) => s.mb);
  const growth = median(last) - median(first);
  const report: LeakReport = {
    seconds: LEAK_SECONDS,
    firstMedianMb: round(median(first), 1),
    lastMedianMb: round(median(last), 1),
    growthMb: round(growth, 1),
    maxMb: round(Math.max(...samples.map((s) => s.mb)), 1),
    ...(heapStart !== undefined ? { heapAfterGcStartMb: heapStart } : {}),
    ...(heapEnd !== undefined ? { heapAfterGcEndMb: heapEnd } : {}),
    thresholdMb: LEAK_THRESHOLD_MB,
    non2xx: r.non2xx,
    errors: r.errors,
    rps: round(r.requests.average, 0),
    pass: growth <= LEAK_THRESHOLD_MB && (heapStart === undefined || heapEnd === undefined || heapEnd - heapStart <= LEAK_THRESHOLD_MB),
    samples: samples.map((s) => ({ t: round(s.t, 1), mb: round(s.mb, 1) })),
  };
  process.stdout.write(
    `RSS first 10 s ${report.firstMedianMb} MB, last 10 s ${report.lastMedianMb} MB (${growth >= 0 ? '+' : ''}${report.growthMb} MB), max ${report.maxMb} MB; heap after GC ${heapStart ?? '?'} → ${heapEnd ?? '?'} MB → ${report.pass ? 'flat' : 'GROWS'}\n`,
  );
  return report;
}

// ---- the run --------------------------------------------------------------------------

async function main(): Promise<void> {
  const loadBefore = loadavg().map((x) => round(x, 2));
  console.log(`bench: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadBefore.join(' ')}, node ${process.version}`);
  console.log(`bench: connector log level info → ${LOG_FILE}; RATE_LIMIT_PER_TOKEN/RATE_LIMIT_PER_ADDRESS=${RATE_LIMIT} on the bench servers (the defaults would answer 429)`);
  const tmp = mkdtempSync(join(tmpdir(), 'bench-'));
  const connectorEnv: Record<string, string> = {
    KASISTO_SECRET: SECRET,
    CREDENTIALS_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'info',
    BENCH_LOG_FILE: LOG_FILE,
    RATE_LIMIT_PER_TOKEN: RATE_LIMIT,
    RATE_LIMIT_PER_ADDRESS: RATE_LIMIT,
    // experiments: BENCH_CONNECTOR_ENV="LOG_LEVEL=warn,TOKEN_CACHE_MS=0"
    ...Object.fromEntries((env.BENCH_CONNECTOR_ENV ?? '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  };
  const results: Record<string, Measurement> = {};
  let leak: LeakReport | undefined;
  let economy: { turns: Turn[]; total: number; minimum: number } | undefined;
  try {
    const needB = only.has('a') || only.has('b') || leakOnly;
    let b: Server | undefined;
    let bTarget: Target | undefined;
    if (needB) {
      b = await startServer('connector-accounts', 'scripts/bench/servers/connector.ts', connectorEnv);
      const { userId, headers } = await signIn(b);
      bTarget = { url: `${b.origin}/api/accounts`, headers, body: JSON.stringify({ user_id: userId }) };
    }
    if (only.has('a') && b) {
      const bodyRes = await post(bTarget!.url, bTarget!.headers, { user_id: JSON.parse(bTarget!.body).user_id });
      const bodyFile = join(tmp, 'accounts.json');
      writeFileSync(bodyFile, bodyRes.text);
      const a = await startServer('bare', 'scripts/bench/servers/bare.ts', { KASISTO_SECRET: SECRET, BENCH_BODY_FILE: bodyFile });
      const check = await post(`${a.origin}/api/accounts`, bTarget!.headers, { user_id: 'x' });
      if (check.text !== bodyRes.text) throw new Error('bare Fastify does not answer the connector\'s body');
      try {
        results.a = await measure('(a) bare Fastify /api/accounts', a, { ...bTarget!, url: `${a.origin}/api/accounts` });
      } finally {
        await a.stop();
      }
    }
    if (b) {
      try {
        if (only.has('b')) results.b = await measure('(b) connector /api/accounts', b, bTarget!);
        if (LEAK_SECONDS > 0 && (leakOnly || only.has('b'))) leak = await leakCheck(b, bTarget!);
      } finally {
        await b.stop();
      }
    }
    if (only.has('c')) {
      const c = await startServer('connector-transactions', 'scripts/bench/servers/connector.ts', { ...connectorEnv, BENCH_LEDGER_ROWS: String(LEDGER_ROWS) });
      try {
        const { userId, headers } = await signIn(c);
        const target = { url: `${c.origin}/api/transactions`, headers, body: JSON.stringify({ user_id: userId, limit: 50 }) };
        const check = await post(target.url, headers, { user_id: userId, limit: 50 });
        if (check.status !== 200 || (check.json as unknown[]).length !== 50) throw new Error(`/transactions should answer 50 entries: ${check.status} ${check.text.slice(0, 200)}`);
        results.c = await measure(`(c) connector /api/transactions (ledger ${LEDGER_ROWS}, limit 50)`, c, target);
      } finally {
        await c.stop();
      }
    }
    if (only.has('d')) {
      const d = await startServer('prism', 'scripts/bench/servers/prism.ts', {});
      try {
        const headers = { 'content-type': 'application/json', secret: 'any-secret', token: 'any-token' };
        const target = { url: `${d.origin}/api/accounts`, headers, body: JSON.stringify({ user_id: 'usr_9c2f4e6a8b0d1e3f5a7c9b1d' }) };
        const check = await post(target.url, headers, JSON.parse(target.body));
        if (check.status !== 200) throw new Error(`Prism answered ${check.status}: ${check.text.slice(0, 300)}`);
        results.d = await measure('(d) Prism mock /api/accounts', d, target);
      } finally {
        await d.stop();
      }
    }
    if (only.has('economy')) {
      process.stdout.write('  Verify economy: scripted conversation against the embedded sandbox… ');
      const { startTestConnector } = await import('../lib/local-connector.js');
      const host = await startTestConnector();
      try {
        economy = await runConversation(host);
      } finally {
        await host.close();
      }
      process.stdout.write(`${economy.total} Verify calls (minimum ${economy.minimum})\n`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  const loadAfter = loadavg().map((x) => round(x, 2));
  const ratio = (x?: Measurement, y?: Measurement) => (x && y ? round(x.rps / y.rps, 3) : undefined);
  const cpuShare = (x?: Measurement, y?: Measurement) => (x && y ? round(y.cpuUsPerRequest / x.cpuUsPerRequest, 3) : undefined);
  const ratios = {
    b_a: ratio(results.b, results.a),
    c_a: ratio(results.c, results.a),
    b_d: ratio(results.b, results.d),
    // the same ratios from server CPU per request: barely moved by other load on the machine
    b_a_cpu: cpuShare(results.b, results.a),
    c_a_cpu: cpuShare(results.c, results.a),
    b_d_cpu: cpuShare(results.b, results.d),
  };
  const targets = targetsOf(results, ratios, leak, economy);
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', memoryMb: Math.round(totalmem() / 2 ** 20), node: process.version, loadBefore, loadAfter },
    settings: { durationSeconds: DURATION, warmupSeconds: WARMUP, connections: CONNECTIONS, pipelining: 1, logLevel: 'info', logFile: LOG_FILE, rateLimitPerToken: RATE_LIMIT, rateLimitPerAddress: RATE_LIMIT, ledgerRows: LEDGER_ROWS, transactionsLimit: 50 },
    results,
    ratios,
    leak,
    economy,
    targets,
    // the conversation bench's points, kept from its last run
    ...previousConversations(),
  };

  console.log('');
  console.log(table(results));
  console.log(`ratios: b/a ${ratios.b_a ?? '–'}, c/a ${ratios.c_a ?? '–'}, b/d ${ratios.b_d ?? '–'} (from CPU per request: ${ratios.b_a_cpu ?? '–'}, ${ratios.c_a_cpu ?? '–'}, ${ratios.b_d_cpu ?? '–'})`);
  for (const t of targets) console.log(`${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${t.value} (target ${t.target})`);
  console.log(`load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}`);

  if (write) {
    mkdirSync(join(ROOT, 'bench'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(ROOT, 'bench/results.md'), markdown(report));
    console.log('wrote bench/results.json and bench/results.md');
  }
  if (STRICT && targets.some((t) => !t.pass)) process.exitCode = 1;
}

interface TargetCheck {
  name: string;
  value: string;
  target: string;
  pass: boolean;
}

function targetsOf(r: Record<string, Measurement>, ratios: Record<string, number | undefined>, leak?: LeakReport, economy?: { total: number; minimum: number }): TargetCheck[] {
  const t: TargetCheck[] = [];
  if (ratios.b_a !== undefined) t.push({ name: 'b/a', value: String(ratios.b_a), target: '≥ 0.5', pass: ratios.b_a >= 0.5 });
  if (ratios.c_a !== undefined) t.push({ name: 'c/a', value: String(ratios.c_a), target: '≥ 0.35', pass: ratios.c_a >= 0.35 });
  if (ratios.b_d !== undefined) t.push({ name: 'b/d', value: String(ratios.b_d), target: '≥ 8', pass: ratios.b_d >= 8 });
  if (r.b) t.push({ name: 'p99 of (b)', value: `${r.b.p99} ms`, target: '≤ 5 ms', pass: r.b.p99 <= 5 });
  for (const k of ['a', 'b', 'c', 'd'] as const) {
    const m = r[k];
    if (m) t.push({ name: `non-2xx/errors in (${k})`, value: `${m.non2xx}/${m.errors}`, target: '0/0', pass: m.non2xx === 0 && m.errors === 0 });
  }
  for (const k of ['b', 'c'] as const) {
    const m = r[k];
    if (m) t.push({ name: `RSS of (${k}) under load`, value: `${m.rssMaxMb} MB max`, target: '≤ 200 MB', pass: m.rssMaxMb <= 200 });
  }
  if (leak) t.push({ name: `RSS growth over ${leak.seconds} s of (b)`, value: `${leak.growthMb >= 0 ? '+' : ''}${leak.growthMb} MB (max ${leak.maxMb} MB)`, target: `≤ ${leak.thresholdMb} MB, max ≤ 200 MB`, pass: leak.pass && leak.maxMb <= 200 && leak.non2xx === 0 });
  if (economy) t.push({ name: 'Verify calls of the conversation', value: String(economy.total), target: `= ${economy.minimum} (minimum)`, pass: economy.total === economy.minimum });
  return t;
}

function table(results: Record<string, Measurement>): string {
  const rows = Object.values(results).map((m) => `| ${m.label} | ${m.rps} | ${m.p50} | ${m.p99} | ${m.rssMedianMb} / ${m.rssMaxMb} | ${m.cpuUsPerRequest} | ${m.non2xx} / ${m.errors} |`);
  return ['| server | req/s | p50 ms | p99 ms | RSS median / max MB | server CPU µs/req | non-2xx / errors |', '|---|---:|---:|---:|---:|---:|---:|', ...rows].join('\n');
}

function markdown(report: {
  date: string;
  machine: { cpus: number; model: string; node: string; loadBefore: number[]; loadAfter: number[] };
  settings: { durationSeconds: number; warmupSeconds: number; connections: number; logFile: string };
  results: Record<string, Measurement>;
  ratios: Record<string, number | undefined>;
  leak?: LeakReport;
  economy?: { turns: Turn[]; total: number; minimum: number };
  targets: TargetCheck[];
  conversations?: ConversationPoint[];
  conversations_run?: { date: string; machine: Record<string, unknown>; settings: Record<string, unknown> };
}): string {
  const lines: string[] = [];
  lines.push('# Benchmark results', '');
  lines.push(`Generated by \`npm run bench\` on ${report.date}: ${report.machine.cpus} CPUs (${report.machine.model}), Node ${report.machine.node}, load average ${report.machine.loadBefore.join(' ')} before and ${report.machine.loadAfter.join(' ')} after.`);
  lines.push(`Each server in its own process on 127.0.0.1; autocannon, ${report.settings.connections} connections, ${report.settings.warmupSeconds} s warm-up then ${report.settings.durationSeconds} s. Connector logs at \`info\` to \`${report.settings.logFile}\`; rate limits raised to 10⁹ per window for the bench (the defaults would answer 429).`, '');
  lines.push(table(report.results), '');
  const r = report.ratios;
  lines.push(
    `Ratios of req/s: **b/a ${r.b_a ?? '–'}**, **c/a ${r.c_a ?? '–'}**, **b/d ${r.b_d ?? '–'}**. The same from server CPU per request (what the ratio would be if the server alone were the limit; little moved by other load on the machine): b/a ${r.b_a_cpu ?? '–'}, c/a ${r.c_a_cpu ?? '–'}, b/d ${r.b_d_cpu ?? '–'}.`,
    '',
  );
  lines.push('| target | measured | wanted | |', '|---|---|---|---|');
  for (const t of report.targets) lines.push(`| ${t.name} | ${t.value} | ${t.target} | ${t.pass ? 'pass' : '**miss**'} |`);
  lines.push('');
  const baselineFile = join(ROOT, 'bench/baseline.json');
  if (existsSync(baselineFile)) lines.push(...beforeAfter(JSON.parse(readFileSync(baselineFile, 'utf8')) as Baseline, report));
  if (report.economy) {
    lines.push('## Verify economy of one conversation', '');
    lines.push('| turn | HTTP | Verify calls | minimum | operations |', '|---|---:|---:|---:|---|');
    for (const t of report.economy.turns) lines.push(`| ${t.step} | ${t.status} | ${t.calls} | ${t.minimum} | ${Object.entries(t.verify).map(([k, v]) => `${k}×${v}`).join(', ') || '–'} |`);
    lines.push(`| **total** | | **${report.economy.total}** | **${report.economy.minimum}** | |`, '');
    lines.push('Why each minimum: see the comment on `MINIMUM` in scripts/bench/conversation.ts.', '');
  }
  if (report.leak) {
    const l = report.leak;
    lines.push('## Leak check', '');
    lines.push(
      `${l.seconds} s of (b) at ${l.rps} req/s after a warm-up and a full GC: RSS median ${l.firstMedianMb} MB over the first 10 s, ${l.lastMedianMb} MB over the last 10 s (${l.growthMb >= 0 ? '+' : ''}${l.growthMb} MB; threshold ${l.thresholdMb} MB), max ${l.maxMb} MB; heap in use after a full GC ${l.heapAfterGcStartMb ?? '?'} MB before and ${l.heapAfterGcEndMb ?? '?'} MB after; non-2xx ${l.non2xx}, errors ${l.errors}.`,
      '',
    );
  }
  const notes = join(ROOT, 'bench/notes.md');
  if (report.conversations) {
    const convNotes = join(ROOT, 'bench/conversations-notes.md');
    lines.push(
      ...conversationsMarkdown(
        { points: report.conversations, settings: report.conversations_run?.settings ?? {}, date: report.conversations_run?.date, machine: report.conversations_run?.machine },
        existsSync(convNotes) ? readFileSync(convNotes, 'utf8') : undefined,
      ),
    );
  }
  if (existsSync(notes)) lines.push(readFileSync(notes, 'utf8').trim(), '');
  return `${lines.join('\n')}\n`;
}

interface Baseline {
  date: string;
  note?: string;
  command?: string;
  machine: { loadBefore: number[]; loadAfter: number[] };
  results: Record<string, Measurement>;
  ratios: Record<string, number | undefined>;
  economy?: { total: number; minimum: number };
  leak?: LeakReport;
}

/** bench/baseline.json: the same benchmark before this issue's changes, side by side. */
function beforeAfter(before: Baseline, after: { results: Record<string, Measurement>; ratios: Record<string, number | undefined>; economy?: { total: number }; leak?: LeakReport }): string[] {
  const lines = ['## Before and after', ''];
  if (before.note) lines.push(before.note, '');
  lines.push(`Before: ${before.date}, load average ${before.machine.loadBefore.join(' ')}${before.command ? `; \`${before.command}\`` : ''}.`, '');
  lines.push('| server | req/s before → after | p99 ms before → after | RSS max MB before → after | CPU µs/req before → after |', '|---|---:|---:|---:|---:|');
  for (const k of ['a', 'b', 'c', 'd']) {
    const x = before.results[k];
    const y = after.results[k];
    if (!x || !y) continue;
    lines.push(`| ${y.label} | ${x.rps} → **${y.rps}** | ${x.p99} → **${y.p99}** | ${x.rssMaxMb} → **${y.rssMaxMb}** | ${x.cpuUsPerRequest} → **${y.cpuUsPerRequest}** |`);
  }
  const pair = (k: string) => `${before.ratios[k] ?? '–'} → **${after.ratios[k] ?? '–'}**`;
  lines.push(`| ratios b/a, c/a, b/d (req/s) | ${pair('b_a')}, ${pair('c_a')}, ${pair('b_d')} | | | |`);
  lines.push(`| ratios b/a, c/a, b/d (CPU) | ${pair('b_a_cpu')}, ${pair('c_a_cpu')}, ${pair('b_d_cpu')} | | | |`);
  if (before.economy && after.economy) lines.push(`| Verify calls of the conversation | ${before.economy.total} → **${after.economy.total}** | | | |`);
  if (before.leak && after.leak) {
    lines.push(`| leak check: RSS growth over ${after.leak.seconds} s (max) | ${before.leak.growthMb} MB (${before.leak.maxMb}) → **${after.leak.growthMb} MB (${after.leak.maxMb})** | | | |`);
    lines.push(`| leak check: heap in use after a full GC, start → end | before ${before.leak.heapAfterGcStartMb ?? '?'} → ${before.leak.heapAfterGcEndMb ?? '?'} MB; after **${after.leak.heapAfterGcStartMb ?? '?'} → ${after.leak.heapAfterGcEndMb ?? '?'} MB** | | | |`);
  }
  lines.push('');
  return lines;
}

type ConversationsRun = { date: string; machine: Record<string, unknown>; settings: Record<string, unknown> };
function previousConversations(): { conversations?: ConversationPoint[]; conversations_run?: ConversationsRun } {
  const file = join(ROOT, 'bench/results.json');
  if (!existsSync(file)) return {};
  const previous = JSON.parse(readFileSync(file, 'utf8')) as { conversations?: ConversationPoint[]; conversations_run?: ConversationsRun };
  return previous.conversations ? { conversations: previous.conversations, conversations_run: previous.conversations_run } : {};
}

async function conversationsMain(): Promise<void> {
  const smoke = args.includes('--smoke');
  const loadBefore = loadavg().map((x) => round(x, 2));
  console.log(`bench: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadBefore.join(' ')}, node ${process.version}; the machine is shared: other load moves every figure`);
  const connectorEnv: Record<string, string> = {
    KASISTO_SECRET: SECRET,
    CREDENTIALS_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'info',
    BENCH_LOG_FILE: LOG_FILE,
    RATE_LIMIT_PER_TOKEN: RATE_LIMIT,
    RATE_LIMIT_PER_ADDRESS: RATE_LIMIT,
    ...Object.fromEntries((env.BENCH_CONNECTOR_ENV ?? '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  };
  const run = await runConversations({ startServer, rssMb, connectorEnv, secret: SECRET }, smoke);
  const loadAfter = loadavg().map((x) => round(x, 2));
  const errors = run.points.reduce((n, p) => n + p.errors, 0);
  const lost = run.points.reduce((n, p) => n + p.lost_movements, 0);
  console.log(`load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}; errors ${errors}, lost movements ${lost}`);
  if (smoke) {
    const completed = run.points.reduce((n, p) => n + p.conversations_completed, 0);
    if (errors > 0 || lost > 0 || completed === 0) {
      console.error(`smoke FAILED: ${errors} errors, ${lost} lost movements, ${completed} conversations completed`);
      process.exitCode = 1;
    } else console.log(`smoke passed: ${completed} conversations, no errors, no lost movement`);
    return;
  }
  if (!write) return;
  const file = join(ROOT, 'bench/results.json');
  const report = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  report.conversations = run.points;
  report.conversations_run = { date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', memoryMb: Math.round(totalmem() / 2 ** 20), node: process.version, loadBefore, loadAfter }, settings: run.settings };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(ROOT, 'bench/results.md'), markdown(report));
  console.log('wrote bench/results.json (conversations) and bench/results.md');
}

if (args.includes('--conversations')) {
  await conversationsMain();
} else if (args.includes('--render')) {
  // results.md again from results.json (after editing bench/notes.md), without measuring
  writeFileSync(join(ROOT, 'bench/results.md'), markdown(JSON.parse(readFileSync(join(ROOT, 'bench/results.json'), 'utf8'))));
  console.log('wrote bench/results.md');
} else {
  await main();
}
