/**
 * `npm run sandbox:verify`: the Verify sandbox as a standalone server on 127.0.0.1.
 *
 *   SANDBOX_PORT     port (default 4011, the port of `npm run mock:verify`)
 *   SANDBOX_CONTROL  "true" to serve the /__sandbox control routes (faults, stats, reset)
 *   LOG_LEVEL        pino level (default info)
 *   SANDBOX_MAX_SESSIONS  sessions kept in memory (default 50 000)
 *   SANDBOX_LATENCY_MEDIAN_MS, SANDBOX_LATENCY_P99_MS  a slow bank from the start: every
 *                    operation waits a log-normal latency with that median and p99 (the '*'
 *                    fault; the control endpoint can change it)
 */
import { writeSync } from 'node:fs';
import { buildSandbox } from './app.js';
import { CONTROL_PREFIX } from './control.js';
import { EXAMPLE_PUBLIC_KEY, EXAMPLE_SECRET_KEY, TEST_PASSWORD, TEST_USERS } from './fixtures.js';

const HOST = '127.0.0.1';

function port(): number {
  const raw = process.env['SANDBOX_PORT'] ?? '4011';
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > 65535) {
    process.stderr.write(`SANDBOX_PORT must be a port number (0-65535), got "${raw}"\n`);
    process.exit(2);
  }
  return value;
}

const control = process.env['SANDBOX_CONTROL'] === 'true';
const maxSessions = process.env['SANDBOX_MAX_SESSIONS'];
const sandbox = await buildSandbox({
  logger: { level: process.env['LOG_LEVEL'] ?? 'info' },
  controlEndpoint: control,
  ...(maxSessions ? { maxSessions: Number(maxSessions) } : {}),
  // SANDBOX_STATE_FILE: keep the bank's state across restarts (default: memory only)
  ...(process.env['SANDBOX_STATE_FILE'] ? { stateFile: process.env['SANDBOX_STATE_FILE'] } : {}),
});
const median = process.env['SANDBOX_LATENCY_MEDIAN_MS'];
const p99 = process.env['SANDBOX_LATENCY_P99_MS'];
if (median || p99) {
  try {
    sandbox.faults.set('*', { latencyMedianMs: Number(median), latencyP99Ms: Number(p99) });
  } catch (error) {
    process.stderr.write(`SANDBOX_LATENCY_MEDIAN_MS / SANDBOX_LATENCY_P99_MS: ${(error as Error).message}\n`);
    process.exit(2);
  }
}
// Installed before listen and before the "listening" line: a supervisor (or a test) that
// signals as soon as it reads that line must meet these handlers, not the default exit.
let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  // written at once: an asynchronous log line can be lost when the process exits right after
  writeSync(2, `sandbox: shutting down (${signal})\n`);
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  sandbox.app
    .close()
    // the log lines are written asynchronously: flush them before exiting, or the last ones are lost
    .then(
      () =>
        new Promise<void>((resolve) => {
          const log = sandbox.app.log as unknown as { flush?(cb: () => void): void };
          if (typeof log.flush === 'function') log.flush(() => resolve());
          else resolve();
        }),
    )
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      process.stderr.write(`sandbox: error while closing: ${String(error)}\n`);
      process.exit(1);
    });
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
const url = await sandbox.app.listen({ host: HOST, port: port() }).catch((error: unknown) => {
  // a signal while starting closes the app under listen(): stop() ends the process, not this
  if (stopping) return new Promise<never>(() => {});
  throw error;
});

const lines = [
  `Verify sandbox listening on ${url}`,
  `  secret key: ${EXAMPLE_SECRET_KEY}   public key: ${EXAMPLE_PUBLIC_KEY}   (any sk_test_… / pk_test_… works)`,
  `  Authorization: Token <key>   (Bearer <key> is accepted too)`,
  `  bank: test_bank   password: ${TEST_PASSWORD}   logins: ${TEST_USERS.map((u) => u.login).join(', ')}`,
  `  sms codes: 1234 finishes, 12345 adds a questions verification; answers: ruby, vim`,
  control
    ? `  control: ${url}${CONTROL_PREFIX}/faults/:operationId (PUT/DELETE), ${CONTROL_PREFIX}/stats (GET), ${CONTROL_PREFIX}/reset (POST)`
    : `  control endpoint off (SANDBOX_CONTROL=true to enable)`,
  `  e.g. curl -s ${url}/banks -H "Authorization: Token ${EXAMPLE_PUBLIC_KEY}"`,
];
process.stdout.write(`${lines.join('\n')}\n`);


