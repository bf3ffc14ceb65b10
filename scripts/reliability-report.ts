/**
 * `npm run report:reliability`: regenerates docs/reliability.md from the figures the
 * reliability suites write (test/reliability/.results/*.json) and, when present, the
 * fuzzing suite's (test/fuzz/.results/fuzz.json). With `--run` (or when no figures exist
 * yet) it runs `vitest run test/reliability` first. Nothing in the page is typed by hand
 * except the explanations: every number comes from a test run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// the figures are written by the suites: read them with the type they are written with
import type { Trial } from './lib/reliability-trial.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'test/reliability/.results');
const FUZZ = join(ROOT, 'test/fuzz/.results/fuzz.json');
const OUT = join(ROOT, 'docs/reliability.md');
const SUITES = ['verify-faults', 'crash', 'scale-out'] as const;

interface SuiteFigures {
  suite: string;
  settings: Record<string, unknown>;
  trials: Trial[];
  durationMs: number;
  finishedAt: string;
}

interface FuzzFigures {
  inputs: number;
  operations: Record<string, number>;
  byStatus: Record<string, number>;
  durationMs: number;
  finishedAt: string;
}

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

const missing = () => SUITES.filter((s) => !existsSync(join(RESULTS, `${s}.json`)));
if (process.argv.includes('--run') || missing().length > 0) {
  process.stdout.write('running the reliability suites (vitest run test/reliability)…\n');
  const run = spawnSync(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'test/reliability'], { cwd: ROOT, stdio: 'inherit' });
  if (run.status !== 0) {
    process.stderr.write('the reliability suites failed: docs/reliability.md not regenerated\n');
    process.exit(1);
  }
}
const absent = missing();
if (absent.length > 0) {
  process.stderr.write(`no figures for ${absent.join(', ')} in ${RESULTS}\n`);
  process.exit(1);
}

const suites = Object.fromEntries(SUITES.map((s) => [s, readJson<SuiteFigures>(join(RESULTS, `${s}.json`))!])) as Record<(typeof SUITES)[number], SuiteFigures>;
const fuzz = readJson<FuzzFigures>(FUZZ);
const faults = suites['verify-faults'];
const T = Number(faults.settings['VERIFY_TIMEOUT_MS']);
const margin = Number(faults.settings['marginMs']);

// ---- helpers ----------------------------------------------------------------------------

const cell = (text: unknown) => String(text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
function table(head: string[], rows: unknown[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}
const ms = (n: number | undefined) => (n === undefined ? '' : `${n} ms`);
const day = (iso: string) => iso.replace('T', ' ').slice(0, 16) + ' UTC';

// ---- figures ----------------------------------------------------------------------------

const matrix = faults.trials.filter((t) => t.kind === 'fault');
const lost = faults.trials.filter((t) => t.kind === 'lost-reply');
const circuit = faults.trials.filter((t) => t.kind === 'circuit');
const leftovers = [...faults.trials.filter((t) => t.kind === 'reconcile' || t.kind === 'outage' || t.kind === 'concurrency')];
const kills = suites.crash.trials.filter((t) => t.kind === 'kill');
const scale = suites['scale-out'].trials;
const bounded = matrix.filter((t) => t.boundMs !== undefined && t.elapsedMs !== undefined);
const worst = bounded.reduce((w, t) => Math.max(w, t.elapsedMs! - (t.boundMs! - margin)), -Infinity);
const operations = [...new Set(matrix.map((t) => t.operation!))];
const kinds = [...new Set(matrix.map((t) => t.fault!))];
const circuitFast = circuit.find((t) => t.boundMs !== undefined);
const fuzz5xx = fuzz ? Object.entries(fuzz.byStatus).filter(([status]) => Number(status) >= 500).reduce((n, [, count]) => n + count, 0) : 0;

// op × (call) rows, fault columns
const rowKey = (t: Trial) => `${t.operation} — ${t.call}`;
const rowKeys = [...new Set(matrix.map(rowKey))];
const matrixRows = rowKeys.map((key) => [
  key,
  ...kinds.map((k) => {
    const t = matrix.find((x) => rowKey(x) === key && x.fault === k);
    if (!t) return '—';
    const attempts = t.attempts !== undefined && t.attempts !== 1 ? `, ${t.attempts} attempts` : '';
    return `${t.status} in ${t.elapsedMs} ms${attempts} (≤ ${t.boundMs})`;
  }),
]);
const afterwards = rowKeys.map((key) => [key, matrix.find((x) => rowKey(x) === key)!.outcome]);

// ---- the page ----------------------------------------------------------------------------

const runs = [...SUITES.map((s) => `${s} ${day(suites[s].finishedAt)} (${Math.round(suites[s].durationMs / 1000)} s)`), ...(fuzz ? [`fuzz ${day(fuzz.finishedAt)}`] : [])];
const lines: string[] = [];
const add = (...text: string[]) => lines.push(...text);

add(
  '# Reliability',
  '',
  '<!-- Generated by `npm run report:reliability` from test/reliability/.results/*.json and test/fuzz/.results/fuzz.json. Do not edit: change the tests or scripts/reliability-report.ts. -->',
  '',
  `What the connector guarantees when Verify misbehaves, when a process dies, and when several instances share one database — each shown by a test with real processes and real faults (no mocks), and measured in the runs below. Runs: ${runs.join(' · ')}.`,
  '',
  '## In short',
  '',
  `- **${matrix.length} Verify faults** (${kinds.join(', ')}) on **${operations.length} Verify operations** (${operations.join(', ')}): every Kasisto call answered 502, 503 or 504 with the body \`{code, message}\` and nothing else (getTransfer is only called by reconciliation, which deferred instead), within its time budget plus a ${margin} ms margin (the largest overshoot of the bare budget: ${Math.max(worst, 0)} ms); no grant was created by a failed /token; every movement was left resumable and the same call succeeded once the fault was cleared, money moving exactly once.`,
  `- **${lost.length} replies lost after Verify did the work** (dropped or corrupted): the transfer is found, never sent again; debited once.`,
  `- **Circuit breaker**: open after ${faults.settings['CIRCUIT_FAILURE_THRESHOLD']} failures, then 503 without reaching Verify${circuitFast ? ` (slowest answer while open: ${circuitFast.elapsedMs} ms)` : ''}; closes again after CIRCUIT_OPEN_SECONDS.`,
  `- **${kills.length} SIGKILLs survived**, one at each step of a transfer: after each restart, reconciliation and the platform's retry ended every movement in the right state, one transfer_id, money moved once.`,
  `- **Scale-out** (${scale.length} checks, 2 instances on one PostgreSQL): tokens, retries (alternating and 10 at once), OTP failure counts and reconciliation are shared without double work.`,
  ...(fuzz ? [`- **${fuzz.inputs} fuzzed inputs** (test/fuzz): ${fuzz5xx === 0 ? 'no 5xx answer' : `${fuzz5xx} 5xx answers`}; statuses ${Object.keys(fuzz.byStatus).join(', ')}.`] : ['- Fuzzing: no figures (run `npx vitest run test/fuzz`).']),
  '',
  '## Time bounds',
  '',
  `Let T = \`VERIFY_TIMEOUT_MS\` (default 3000 ms; ${T} ms in the fault suite) and R = \`VERIFY_RETRIES\` (default 2).`,
  '',
  table(
    ['What', 'Bound', 'Why'],
    [
      ['A Verify call sent once (createSession, loginSession, createTransfer)', 'T', 'one attempt, aborted at T (headers and body); never retried, so never sent twice'],
      ['A Verify call that is safe to repeat (GETs, verification PUTs)', '2 T in all', 'up to R + 1 attempts with backoff (~50, ~150 ms, jittered) inside one 2 T deadline: min(2 T, (R + 1) T + backoff)'],
      ['A Kasisto call', 'min(the sum of the budgets of the Verify calls it makes, B) plus its own work', 'calls to Verify are sequential and each is bounded as above; all of them share the request budget B = `VERIFY_BUDGET_MS` (default 2500 ms), past which no Verify call is sent and the call answers 504 (test/connector/verify-budget.test.ts)'],
      ['A Kasisto call that fails because of Verify', 'the budget of the failing Verify call', 'the first failing Verify call ends it, except a failed createTransfer, which is followed by one lookup (listSessionTransfers): there T + 2 T = 3 T; elsewhere ≤ 2 T'],
      ['A call while the circuit is open', 'no Verify call', `503 \`upstream_unavailable\` at once (measured ≤ ${circuitFast?.elapsedMs ?? '?'} ms)`],
      ['A retry that finds its movement driven by another request or instance', 'min(lease + 1 s, what is left of B)', 'it waits for that outcome, then answers it (or 503 `in_progress`, Retry-After 1)'],
      ['A movement lease', '4 T + 2 s, renewed before every step', 'one step is at most 3 T (createTransfer and its lookup); a dead holder\'s movement is free again at most this long after its last step'],
      ['Reconciliation of a dead instance\'s movement', 'lease + RECONCILE_INTERVAL_SECONDS', 'at start-up and every RECONCILE_INTERVAL_SECONDS (default 30) on every instance'],
    ],
  ),
  '',
  `The fault suite asserts, for every trial, elapsed ≤ budget of the faulted Verify call(s) + ${margin} ms (scheduling margin on a loaded two-core machine); the measured times are below. Without the request budget, the defaults (T = 3 s) would let a Kasisto call that Verify fails take about 6 s, or 9 s for a /transfer or /payment whose createTransfer and lookup both time out — past Kasisto's 3 s turn; the budget B (default 2.5 s) ends every Kasisto call's Verify work inside the turn. The fault suite's budgets stay below B; the crash and scale-out suites set B high so that waiting for a dead instance's lease is measured alone.`,
  '',
  '## Faults injected',
  '',
  `The embedded sandbox's fault injection, one Verify operation at a time, answered by a connector with T = ${T} ms, R = ${faults.settings['VERIFY_RETRIES']}. Each cell: the Kasisto answer, its time, and the asserted bound.`,
  '',
  table(['Verify operation — Kasisto call', ...kinds], matrixRows),
  '',
  'Afterwards, for every fault of the row:',
  '',
  table(['Verify operation — Kasisto call', 'State left, and what the same call did once Verify recovered'], afterwards),
  '',
  'Slow answers end in 504, 5xx in 502 (503s are retried first for repeatable calls), dropped connections in 503, bodies that break spec/verify.yaml in 502. Calls sent once were sent exactly once (sandbox call counts); repeatable ones at most R + 1 times.',
  '',
  '## Replies lost after Verify did the work',
  '',
  table(['Verify operation', 'Fault', 'Kasisto call', 'Answer', 'Outcome'], lost.map((t) => [t.operation, t.fault, t.call, t.status, t.outcome])),
  '',
  '## Circuit breaker',
  '',
  `CIRCUIT_FAILURE_THRESHOLD = ${faults.settings['CIRCUIT_FAILURE_THRESHOLD']}, CIRCUIT_OPEN_SECONDS = ${faults.settings['CIRCUIT_OPEN_SECONDS']}.`,
  '',
  table(['Trial', 'Answer', 'Slowest', 'Outcome'], circuit.map((t) => [t.name, t.status, ms(t.elapsedMs), t.outcome])),
  '',
  '## Outages and what they leave behind',
  '',
  table(['Trial', 'Outcome'], leftovers.map((t) => [t.name, t.outcome])),
  '',
  '## Process kills survived',
  '',
  `The connector (\`src/server.ts\`, SQLite file) SIGKILLed while Verify (a separate sandbox process) held the next call; then restarted on the same file. T = ${suites.crash.settings['VERIFY_TIMEOUT_MS']} ms, so the lease is ${suites.crash.settings['leaseMs']} ms; RECONCILE_INTERVAL_SECONDS = ${suites.crash.settings['RECONCILE_INTERVAL_SECONDS']}. "Answer" is what the platform's first request got.`,
  '',
  table(['Kill', 'Answer', 'Outcome'], kills.map((t) => [t.name.replace(/^SIGKILL /, ''), t.status, t.outcome])),
  '',
  '## Scale-out',
  '',
  `Two connector processes on one PostgreSQL database and one sandbox process (T = ${suites['scale-out'].settings['VERIFY_TIMEOUT_MS']} ms, reconciliation every ${suites['scale-out'].settings['RECONCILE_INTERVAL_SECONDS']} s on each).`,
  '',
  table(['Check', 'Answer', 'Outcome'], scale.map((t) => [t.name, t.status ?? '', t.outcome])),
  '',
  '## Inputs tried (fuzzing)',
  '',
  ...(fuzz
    ? [
        `${fuzz.inputs} inputs in ${Math.round(fuzz.durationMs / 1000)} s (test/fuzz, ${day(fuzz.finishedAt)}).`,
        '',
        table(['Operation', 'Inputs'], Object.entries(fuzz.operations).sort((x, y) => y[1] - x[1])),
        '',
        table(['Status', 'Answers'], Object.entries(fuzz.byStatus).sort((x, y) => Number(x[0]) - Number(y[0]))),
      ]
    : ['No figures: test/fuzz/.results/fuzz.json is written by `npx vitest run test/fuzz`.']),
  '',
  '## Defects these suites found (fixed)',
  '',
  '- Two requests of the same instance could drive one movement at once: a lease was held per instance, not per request, so identical parallel requests (the platform retrying quickly) each created a Verify session and a transfer — money moved twice. Leases are now per drive (and per reconciliation run), and a movement is inserted already leased to the request that records it.',
  '- A retry after a lost loginSession reply (or a crash during the login) was stuck on 502: Verify refuses a second login on a session. A movement resumed before it reached `transfer_requested` now starts over with a fresh session (safe: no transfer can exist yet).',
  '- Reconciliation could give a `transfer_requested` movement a new Verify session (via `interrupted`) when Verify had no transfer yet, so a late first createTransfer and the resumed one could both succeed. Such a movement now keeps its session: Verify carries one transfer per session, so the re-send cannot move money twice; it is failed only after the retry window.',
  '- An OTP whose reply was lost after Verify accepted it left the transfer `awaiting_transfer_otp`, and reconciliation later marked it `cancelled` though the money had moved. Reconciliation now asks Verify first and records the real outcome.',
  '- A Verify outage during /validate_otp used up the customer\'s attempts (each failed call counted as a wrong OTP, then 453). An attempt Verify never judged is now given back.',
  '- A lease could expire under a long drive (several slow steps), letting a second holder in; it is now renewed before each step. Housekeeping runs could overlap on a slow Verify; one runs at a time now.',
  '- Movements left `interrupted` and never retried stayed open for ever; they are cancelled once the retry window has passed.',
  '',
  '## Reproduce',
  '',
  '```sh',
  'npx vitest run test/reliability      # fault matrix, kills, scale-out (PostgreSQL from .ci/postgres-url or TEST_DATABASE_URL)',
  'npx vitest run test/fuzz             # optional: the fuzzing figures',
  'npm run report:reliability           # this page (add --run to run the suites first)',
  '```',
  '',
);

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, lines.join('\n'));
process.stdout.write(`wrote ${OUT}\n`);
