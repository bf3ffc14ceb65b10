/**
 * `npm run bench:conversations`: thousands of Kasisto conversations against a slow bank.
 *
 * Processes (each its own, on 127.0.0.1): the Verify sandbox (servers/sandbox.ts) answering
 * every call after a log-normal latency (BENCH_VERIFY_MEDIAN_MS 250, BENCH_VERIFY_P99_MS
 * 1200), one or two connector instances (servers/connector.ts with BENCH_CONVERSATIONS=1) on
 * SQLite or PostgreSQL, and for two instances a round-robin proxy (servers/proxy.ts). This
 * process is the load generator: an open arrival model (Poisson arrivals at a rate chosen
 * so that `concurrent` conversations are in flight), each conversation a distinct minted
 * sandbox customer `test_transfer_otp+N`:
 *
 *   token → accounts → transactions → transfer (450, OTP) → validate_otp → transfer (retry,
 *   processed) → transactions
 *
 * with think time between turns (BENCH_THINK_MS mean, uniform ±50 %).
 *
 * Per point: turns/s in the measurement window; our own time per turn (the connector's time
 * for the request minus the wall time of its Verify attempts, both measured inside the
 * connector and sent back in bench-only headers) p50/p99; the client-side turn latency;
 * event-loop delay p99 in the connector; Verify calls per conversation; the most client
 * sockets the sandbox saw open at once; RSS max per instance; PostgreSQL connections; errors
 * and lost movements (a processed transfer must have exactly one debit in the sandbox and
 * exactly one ledger entry).
 *
 * Settings (env): BENCH_CONV_POINTS (default
 * "sqlite:1:100,sqlite:1:1000,sqlite:1:5000,pg:1:100,pg:1:1000,pg:1:5000,pg:2:100,pg:2:1000,pg:2:5000"),
 * BENCH_CONV_MEASURE_S (30), BENCH_THINK_MS (3000), BENCH_VERIFY_POOL (256), BENCH_PG_URL
 * (default TEST_DATABASE_URL; a database is created per point). Flags: --smoke (20 s, one
 * SQLite instance, 30 conversations in flight, Verify median 60 ms / p99 300 ms unless set,
 * Verify budget 30 s: exit 1 on errors or lost movements, no timing asserts),
 * --no-write.
 */
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { Agent, request } from 'undici';

export interface BenchServer {
  name: string;
  pid: number;
  origin: string;
  ready: { port: number; [k: string]: unknown };
  stop(): Promise<void>;
}

export interface Harness {
  startServer(name: string, script: string, env: Record<string, string>): Promise<BenchServer>;
  rssMb(pid: number): number;
  /** The connector env of the micro benchmark (secret, credentials key, log file, rate limits). */
  connectorEnv: Record<string, string>;
  secret: string;
}

export interface ConversationPoint {
  instances: number;
  store: 'sqlite' | 'postgres';
  concurrent: number;
  arrival_rate_per_s: number;
  concurrent_measured: number;
  conversations_completed: number;
  turns_per_s: number;
  own_p50_ms: number;
  own_p99_ms: number;
  turn_p50_ms: number;
  turn_p99_ms: number;
  loop_delay_p99_ms: number;
  verify_calls_per_conversation: number;
  verify_sockets_max: number;
  rss_max_mb: number;
  rss_start_mb: number;
  pg_connections_max: number | null;
  errors: number;
  error_kinds: Record<string, number>;
  lost_movements: number;
  shed_503: number;
  generator_loop_p99_ms: number;
  /** Per instance at the end of the window: circuit state, Verify calls shed by the gate since start. */
  instances_at_end: { circuit: string; verify_shed: number; verify_queue_depth: number }[];
}

const env = process.env;
const num = (v: string | undefined, d: number) => (v === undefined || v === '' ? d : Number(v));
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);

// the smoke checks correctness, not the budget: a gentler bank, so an error means a bug
const SMOKE = process.argv.includes('--smoke');
const VERIFY_MEDIAN_MS = num(env.BENCH_VERIFY_MEDIAN_MS, SMOKE ? 60 : 250);
const VERIFY_P99_MS = num(env.BENCH_VERIFY_P99_MS, SMOKE ? 300 : 1200);
const VERIFY_POOL = num(env.BENCH_VERIFY_POOL, 256);
/** Verify calls of one conversation, the minimum (scripts/bench/conversation.ts without /customer and the cached /accounts). */
const VERIFY_CALLS = 8;
const TURNS = 7;

interface Settings {
  points: { store: 'sqlite' | 'postgres'; instances: number; concurrent: number }[];
  measureS: number;
  thinkMs: number;
  smoke: boolean;
}

function settings(smoke: boolean): Settings {
  if (smoke) return { points: [{ store: 'sqlite', instances: 1, concurrent: 30 }], measureS: 8, thinkMs: 400, smoke };
  const spec = env.BENCH_CONV_POINTS ?? 'sqlite:1:100,sqlite:1:1000,sqlite:1:5000,pg:1:100,pg:1:1000,pg:1:5000,pg:2:100,pg:2:1000,pg:2:5000';
  const points = spec.split(',').map((p) => {
    const [store, instances, concurrent] = p.split(':');
    return { store: store === 'pg' ? ('postgres' as const) : ('sqlite' as const), instances: Number(instances), concurrent: Number(concurrent) };
  });
  return { points, measureS: num(env.BENCH_CONV_MEASURE_S, 30), thinkMs: num(env.BENCH_THINK_MS, 3000), smoke };
}

/** Mean of the log-normal with this median and p99. */
function meanVerifyMs(): number {
  const sigma = Math.log(VERIFY_P99_MS / VERIFY_MEDIAN_MS) / 2.3263478740408408;
  return VERIFY_MEDIAN_MS * Math.exp((sigma * sigma) / 2);
}

// ---- the load generator --------------------------------------------------------------------

interface TurnRecord {
  end: number;
  latencyMs: number;
  ownMs: number;
}

interface Tally {
  turns: TurnRecord[];
  errors: Map<string, number>;
  shed503: number;
  completed: number;
  verifyCalls: number[];
  inFlight: number;
  /** Processed transfers: login, transfer id, ledger entries seen in the last turn. */
  processed: { login: string; transferId: string; ledgerEntries: number }[];
  logins: string[];
}

class TurnError extends Error {
  constructor(readonly kind: string) {
    super(kind);
  }
}

async function conversation(origin: string, secret: string, dispatcher: Agent, login: string, thinkMs: number, tally: Tally): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json', secret };
  let verifyCalls = 0;
  const think = () => sleep(thinkMs * (0.5 + Math.random()));
  const turn = async (step: string, op: string, body: unknown, expected: number): Promise<any> => {
    const started = performance.now();
    let res;
    try {
      res = await request(`${origin}/api/${op}`, { method: 'POST', headers, body: JSON.stringify(body), dispatcher });
    } catch (error) {
      throw new TurnError(`${step}: ${(error as { code?: string }).code ?? 'network error'}`);
    }
    const text = await res.body.text();
    const end = performance.now();
    const h = res.headers;
    const verifyMs = Number(h['x-bench-verify-ms'] ?? 0);
    const elapsed = Number(h['x-bench-elapsed-ms'] ?? NaN);
    verifyCalls += Number(h['x-bench-verify-calls'] ?? 0);
    if (typeof h.token === 'string') headers.token = h.token; // a rotation, as the platform would take it
    if (res.statusCode !== expected) {
      if (res.statusCode === 503) tally.shed503 += 1;
      let code = '';
      try {
        const body = JSON.parse(text) as { code?: string; message?: string };
        code = `${body.code ?? ''}: ${(body.message ?? '').slice(0, 40)}`;
      } catch {
        code = text.slice(0, 40);
      }
      throw new TurnError(`${step}: HTTP ${res.statusCode} ${code}`);
    }
    tally.turns.push({ end, latencyMs: end - started, ownMs: Math.max(0, (Number.isFinite(elapsed) ? elapsed : end - started) - verifyMs) });
    return JSON.parse(text);
  };

  tally.inFlight += 1;
  try {
    const signIn = await turn('token', 'token', { username: login, password: 'test_pass' }, 200);
    headers.token = signIn.token;
    const userId: string = signIn.user_id;
    await think();
    const accounts = (await turn('accounts', 'accounts', { user_id: userId }, 200)) as { account_id: string; currency_code: string }[];
    const aed = accounts.find((a) => a.currency_code === 'AED');
    const usd = accounts.find((a) => a.currency_code === 'USD');
    if (!aed || !usd) throw new TurnError('accounts: no AED or USD account');
    await think();
    await turn('transactions', 'transactions', { user_id: userId, limit: 10 }, 200);
    await think();
    const transfer = { user_id: userId, source_account_id: aed.account_id, dest_account_id: usd.account_id, amount: 2.5 };
    await turn('transfer', 'transfer', transfer, 450);
    await think();
    const otp = await turn('validate_otp', 'validate_otp', { user_id: userId, otp: '1234' }, 200);
    if (typeof otp.token === 'string') headers.token = otp.token;
    await think();
    const done = await turn('transfer (retry)', 'transfer', transfer, 200);
    if (done.status !== 'processed') throw new TurnError(`transfer (retry): status ${done.status}`);
    await think();
    const ledger = (await turn('transactions (after)', 'transactions', { user_id: userId, limit: 10 }, 200)) as { transaction_id: string; transaction_type?: string }[];
    // the movement's debit entry on the source account (its credit on the destination is `…-credit`)
    tally.processed.push({ login, transferId: done.transfer_id, ledgerEntries: ledger.filter((t) => t.transaction_id === `${done.transfer_id}-debit`).length });
    tally.completed += 1;
    tally.verifyCalls.push(verifyCalls);
  } catch (error) {
    const kind = error instanceof TurnError ? error.kind.slice(0, 100) : `unexpected: ${String(error).slice(0, 80)}`;
    tally.errors.set(kind, (tally.errors.get(kind) ?? 0) + 1);
  } finally {
    tally.inFlight -= 1;
  }
}

// ---- one point -------------------------------------------------------------------------------

async function getJson(url: string, init?: RequestInit): Promise<any> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.status === 204 ? undefined : res.json();
}

let customerSeq = Math.floor(Math.random() * 1000) * 1_000_000;

async function runPoint(h: Harness, s: Settings, point: Settings['points'][number], sandbox: BenchServer, pgUrl: string | undefined): Promise<ConversationPoint> {
  const label = `${point.instances} × ${point.store}, ${point.concurrent} concurrent`;
  await getJson(`${sandbox.origin}/__sandbox/reset`, { method: 'POST' });
  await getJson(`${sandbox.origin}/__sandbox/faults/*`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ latencyMedianMs: VERIFY_MEDIAN_MS, latencyP99Ms: VERIFY_P99_MS }),
  });

  let database: string | undefined;
  let databaseUrl: string | undefined;
  if (point.store === 'postgres') {
    if (!pgUrl) throw new Error('PostgreSQL points need BENCH_PG_URL or TEST_DATABASE_URL');
    database = `bench_conv_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const u = new URL(pgUrl);
    u.pathname = `/${database}`;
    databaseUrl = u.toString();
  }

  const instances: BenchServer[] = [];
  let proxy: BenchServer | undefined;
  const pgSamples: number[] = [];
  let pgMonitor: pg.Client | undefined;
  try {
    for (let i = 0; i < point.instances; i++) {
      instances.push(
        await h.startServer(`connector-${i + 1}`, 'scripts/bench/servers/connector.ts', {
          ...h.connectorEnv,
          BENCH_CONVERSATIONS: '1',
          VERIFY_BASE_URL: sandbox.origin,
          VERIFY_SECRET_KEY: 'sk_test_bench',
          VERIFY_PUBLIC_KEY: 'pk_test_bench',
          VERIFY_POOL_CONNECTIONS: String(VERIFY_POOL),
          // the smoke asserts no timing: a starved CI machine must not turn into 504s
          ...(s.smoke ? { VERIFY_BUDGET_MS: '30000', VERIFY_TIMEOUT_MS: '20000' } : {}),
          ...(databaseUrl ? { BENCH_DATABASE_URL: databaseUrl } : {}),
        }),
      );
    }
    if (point.instances > 1) {
      proxy = await h.startServer('proxy', 'scripts/bench/servers/proxy.ts', { BENCH_PROXY_TARGETS: instances.map((i) => i.origin).join(',') });
    }
    const origin = (proxy ?? instances[0]!).origin;
    if (databaseUrl) {
      pgMonitor = new pg.Client({ connectionString: pgUrl });
      await pgMonitor.connect();
    }

    // Arrival rate for the asked concurrency (Little's law): concurrency / conversation length.
    const conversationMs = 6 * s.thinkMs + VERIFY_CALLS * meanVerifyMs() + TURNS * 5;
    const rate = point.concurrent / (conversationMs / 1000);
    const rampMs = s.smoke ? 4000 : conversationMs;
    const measureMs = s.measureS * 1000;
    const dispatcher = new Agent({ connections: 2048, pipelining: 1, keepAliveTimeout: 10_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
    const tally: Tally = { turns: [], errors: new Map(), shed503: 0, completed: 0, verifyCalls: [], inFlight: 0, processed: [], logins: [] };
    const genLoop = monitorEventLoopDelay({ resolution: 10 });
    const rssStart = Math.max(...instances.map((i) => h.rssMb(i.pid)));
    const rss = instances.map(() => 0);
    const inFlightSamples: number[] = [];
    const t0 = performance.now();
    let windowStarted = false;
    const sampler = setInterval(() => {
      instances.forEach((i, k) => {
        try {
          rss[k] = Math.max(rss[k]!, h.rssMb(i.pid));
        } catch {
          /* gone */
        }
      });
      const t = performance.now() - t0;
      if (t >= rampMs && t <= rampMs + measureMs) inFlightSamples.push(tally.inFlight);
      if (pgMonitor && database) {
        pgMonitor
          .query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [database])
          .then((r) => pgSamples.push(r.rows[0].n as number))
          .catch(() => {});
      }
    }, 1000);

    process.stdout.write(`  ${label}: ${round(rate, 1)} conversations/s for ${round((rampMs + measureMs) / 1000, 0)} s (window ${s.measureS} s after ${round(rampMs / 1000, 0)} s)… `);
    const running = new Set<Promise<void>>();
    const arrivalsEnd = t0 + rampMs + measureMs;
    let nextArrival = t0;
    while (performance.now() < arrivalsEnd) {
      const now = performance.now();
      if (!windowStarted && now - t0 >= rampMs) {
        windowStarted = true;
        genLoop.enable();
        await Promise.all(instances.map((i) => getJson(`http://127.0.0.1:${i.ready.statsPort}/stats?reset=1`)));
      }
      while (nextArrival <= now) {
        customerSeq += 1;
        const login = `test_transfer_otp+${customerSeq}`;
        tally.logins.push(login);
        const p = conversation(origin, h.secret, dispatcher, login, s.thinkMs, tally);
        running.add(p);
        void p.finally(() => running.delete(p));
        nextArrival += -Math.log(1 - Math.random()) * (1000 / rate); // exponential gaps: Poisson arrivals
      }
      await sleep(Math.max(1, Math.min(50, nextArrival - performance.now())));
    }
    const windowEnd = t0 + rampMs + measureMs;
    const loopStats = await Promise.all(instances.map((i) => getJson(`http://127.0.0.1:${i.ready.statsPort}/stats`)));
    genLoop.disable();
    // drain: every conversation finishes (or fails) before the money is checked
    const drainDeadline = performance.now() + conversationMs * 3 + 30_000;
    while (running.size > 0 && performance.now() < drainDeadline) await sleep(200);
    const unfinished = running.size;
    clearInterval(sampler);
    await dispatcher.close();

    const sandboxStats = await getJson(`${sandbox.origin}/__sandbox/stats`);
    const debits = (await getJson(`${sandbox.origin}/__sandbox/debits`)) as Record<string, { debits: number }>;
    let lost = 0;
    const lostExamples: string[] = [];
    for (const p of tally.processed) {
      const n = debits[p.login]?.debits ?? 0;
      if (n !== 1 || p.ledgerEntries !== 1) {
        lost += 1;
        if (lostExamples.length < 3) lostExamples.push(`${p.login}: ${n} debits, ${p.ledgerEntries} ledger entries`);
      }
    }
    for (const [login, d] of Object.entries(debits)) {
      if (d.debits > 1 && !tally.processed.some((p) => p.login === login)) {
        lost += 1;
        lostExamples.push(`${login}: ${d.debits} debits`);
      }
    }
    if (unfinished > 0) tally.errors.set('unfinished after the drain', unfinished);

    const inWindow = tally.turns.filter((t) => t.end >= t0 + rampMs && t.end <= windowEnd);
    const own = inWindow.map((t) => t.ownMs).sort((a, b) => a - b);
    const lat = inWindow.map((t) => t.latencyMs).sort((a, b) => a - b);
    const errors = [...tally.errors.values()].reduce((a, b) => a + b, 0);
    const result: ConversationPoint = {
      instances: point.instances,
      store: point.store,
      concurrent: point.concurrent,
      arrival_rate_per_s: round(rate, 2),
      concurrent_measured: round(inFlightSamples.reduce((a, b) => a + b, 0) / Math.max(1, inFlightSamples.length), 0),
      conversations_completed: tally.completed,
      turns_per_s: round(inWindow.length / s.measureS, 1),
      own_p50_ms: round(quantile(own, 0.5), 2),
      own_p99_ms: round(quantile(own, 0.99), 2),
      turn_p50_ms: round(quantile(lat, 0.5), 1),
      turn_p99_ms: round(quantile(lat, 0.99), 1),
      loop_delay_p99_ms: Math.max(...loopStats.map((l: { loopDelayP99Ms: number }) => l.loopDelayP99Ms)),
      verify_calls_per_conversation: round(tally.verifyCalls.reduce((a, b) => a + b, 0) / Math.max(1, tally.verifyCalls.length), 2),
      verify_sockets_max: sandboxStats.sockets.max as number,
      rss_max_mb: round(Math.max(...rss), 1),
      rss_start_mb: round(rssStart, 1),
      pg_connections_max: pgSamples.length > 0 ? Math.max(...pgSamples) : null,
      errors,
      error_kinds: Object.fromEntries(tally.errors),
      lost_movements: lost,
      shed_503: tally.shed503,
      generator_loop_p99_ms: round(genLoop.percentile(99) / 1e6, 1),
      instances_at_end: loopStats.map((l: { circuit: string; verifyPool: Record<string, number> }) => ({
        circuit: l.circuit,
        verify_shed: l.verifyPool['connector_verify_shed_total'] ?? 0,
        verify_queue_depth: l.verifyPool['connector_verify_queue_depth'] ?? 0,
      })),
    };
    process.stdout.write(
      `${result.turns_per_s} turns/s, own p50/p99 ${result.own_p50_ms}/${result.own_p99_ms} ms, turn p99 ${result.turn_p99_ms} ms, loop p99 ${result.loop_delay_p99_ms} ms, ` +
        `${result.verify_calls_per_conversation} Verify calls/conv, sockets ${result.verify_sockets_max}, RSS ${result.rss_max_mb} MB, pg ${result.pg_connections_max ?? '–'}, ` +
        `in flight ${result.concurrent_measured}, at end ${JSON.stringify(result.instances_at_end)}, errors ${errors}${errors ? ` ${JSON.stringify(result.error_kinds)}` : ''}, lost ${lost}${lostExamples.length ? ` (${lostExamples.join('; ')})` : ''}\n`,
    );
    return result;
  } finally {
    await pgMonitor?.end().catch(() => {});
    await proxy?.stop();
    for (const i of instances) await i.stop();
    if (database && pgUrl) {
      const admin = new pg.Client({ connectionString: pgUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
      await admin.end();
    }
  }
}

/** Runs the points; returns them (smoke: throws when a point had errors or lost movements). */
export async function runConversations(h: Harness, smoke: boolean): Promise<{ settings: Record<string, unknown>; points: ConversationPoint[] }> {
  const s = settings(smoke);
  const pgUrl = env.BENCH_PG_URL ?? env.TEST_DATABASE_URL;
  console.log(
    `conversations: Verify latency log-normal median ${VERIFY_MEDIAN_MS} ms, p99 ${VERIFY_P99_MS} ms (mean ${round(meanVerifyMs(), 0)} ms); think ${s.thinkMs} ms ±50 %; Verify pool ${VERIFY_POOL}; window ${s.measureS} s`,
  );
  const sandbox = await h.startServer('sandbox', 'scripts/bench/servers/sandbox.ts', {});
  const points: ConversationPoint[] = [];
  try {
    for (const point of s.points) {
      if (point.store === 'postgres' && !pgUrl) {
        console.log(`  skipped ${point.instances} × postgres: no BENCH_PG_URL / TEST_DATABASE_URL`);
        continue;
      }
      points.push(await runPoint(h, s, point, sandbox, pgUrl));
    }
  } finally {
    await sandbox.stop();
  }
  return {
    settings: {
      verifyLatency: { distribution: 'log-normal', medianMs: VERIFY_MEDIAN_MS, p99Ms: VERIFY_P99_MS, meanMs: round(meanVerifyMs(), 0) },
      thinkMs: s.thinkMs,
      measureSeconds: s.measureS,
      verifyPoolConnections: VERIFY_POOL,
      script: 'token → accounts → transactions → transfer (450 OTP) → validate_otp → transfer (retry) → transactions; test_transfer_otp+N customers',
      smoke,
    },
    points,
  };
}

export function conversationsMarkdown(c: { settings: Record<string, any>; points: ConversationPoint[]; date?: string; machine?: Record<string, any> } | undefined, notes?: string): string[] {
  if (!c) return [];
  const lines = ['## Conversations against a slow bank (`npm run bench:conversations`)', ''];
  const st = c.settings;
  if (c.date) lines.push(`Run ${c.date}${c.machine ? `, ${c.machine.cpus} CPUs, load average ${c.machine.loadBefore?.join(' ')} before and ${c.machine.loadAfter?.join(' ')} after` : ''}.`);
  lines.push(
    `Verify: log-normal latency, median ${st.verifyLatency?.medianMs} ms, p99 ${st.verifyLatency?.p99Ms} ms (mean ${st.verifyLatency?.meanMs} ms), in its own process. Script: ${st.script}; think time ${st.thinkMs} ms ±50 % between turns; Poisson arrivals at the rate that keeps \`concurrent\` conversations in flight (Little's law); measured over ${st.measureSeconds} s after a ramp of one conversation length. Verify pool ${st.verifyPoolConnections} connections per instance. "Own" = the connector's time for the request minus the wall time of its Verify attempts, both measured inside the connector (bench-only headers); "turn" = latency seen by the load generator (same machine, through the proxy for 2 instances).`,
    '',
  );
  lines.push(
    '| instances | store | concurrent (in flight) | turns/s | own p50 / p99 ms | turn p50 / p99 ms | loop delay p99 ms | Verify calls / conv | Verify sockets max | RSS start → max MB | PG conns max | errors (503) | lost |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const p of c.points) {
    lines.push(
      `| ${p.instances} | ${p.store} | ${p.concurrent} (${p.concurrent_measured}) | ${p.turns_per_s} | ${p.own_p50_ms} / ${p.own_p99_ms} | ${p.turn_p50_ms} / ${p.turn_p99_ms} | ${p.loop_delay_p99_ms} | ${p.verify_calls_per_conversation} | ${p.verify_sockets_max} | ${p.rss_start_mb} → ${p.rss_max_mb} | ${p.pg_connections_max ?? '–'} | ${p.errors} (${p.shed_503}) | ${p.lost_movements} |`,
    );
  }
  lines.push('');
  const withErrors = c.points.filter((p) => p.errors > 0);
  for (const p of withErrors) lines.push(`- errors at ${p.instances} × ${p.store}, ${p.concurrent}: ${Object.entries(p.error_kinds).map(([k, v]) => `${k} × ${v}`).join('; ')}`);
  if (withErrors.length) lines.push('');
  if (notes) lines.push(notes.trim(), '');
  return lines;
}
