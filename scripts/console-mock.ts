/**
 * `npm run console:mock`: the operator console against the operator contract, without a
 * connector. Prism serves spec/operator.yaml's named examples (scripts/mock.sh operator, on
 * an internal loopback port) behind the console host, which plays the key rules with two
 * demonstration keys (they open nothing but this mock):
 *
 *   settler  demo-settler-key-0001   (name bob)
 *   viewer   demo-viewer-key-00001   (name carol)
 *
 *   npm run console:mock [-- PORT]      # http://127.0.0.1:4014/operator/console/
 *
 * SIGTERM/SIGINT stop the host and Prism.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startConsoleHost } from './lib/console-host.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const port = Number(process.argv[2] ?? 4014);
const KEYS = [
  { name: 'bob', role: 'settler' as const, key: 'demo-settler-key-0001' },
  { name: 'carol', role: 'viewer' as const, key: 'demo-viewer-key-00001' },
];

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const prismPort = await freePort();
// own process group, so that stopping it stops Prism too
const prism = spawn('bash', ['scripts/mock.sh', 'operator', String(prismPort)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], detached: true });
const stopPrism = () => {
  try {
    process.kill(-prism.pid!, 'SIGTERM');
  } catch {
    /* gone */
  }
};
prism.once('exit', (code) => {
  process.stderr.write(`console:mock: Prism exited (${code})\n`);
  process.exit(1);
});

const upstream = `http://127.0.0.1:${prismPort}/operator/v1`;
for (let i = 0; ; i++) {
  try {
    await fetch(`${upstream}/summary`);
    break;
  } catch {
    if (i > 300) {
      stopPrism();
      throw new Error('Prism did not start within 30 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
const host = await startConsoleHost(upstream, KEYS, port);
process.stdout.write(
  `Operator console (against the contract's examples): ${host.url}/operator/console/\n` +
    KEYS.map((k) => `  ${k.role.padEnd(8)} ${k.key}`).join('\n') +
    '\n',
);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    prism.removeAllListeners('exit');
    stopPrism();
    void host.close().then(() => process.exit(0));
  });
}
