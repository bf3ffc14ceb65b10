/**
 * Benchmark server: the Verify sandbox in its own process (the slow bank every connector
 * instance of a point shares), control endpoint on, quiet logs, room for every session of a
 * run. Prints `{"port":N}` on stdout when ready; SIGTERM stops it.
 */
import { buildSandbox } from '../../../src/sandbox/app.js';

const sandbox = await buildSandbox({ logger: false, controlEndpoint: true, maxSessions: 2_000_000 });
const url = await sandbox.app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(url).port) })}\n`);
const stop = () => void sandbox.app.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
