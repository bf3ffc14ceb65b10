/**
 * Benchmark server (d): Prism's static mock of spec/kasisto/1.0.yaml, what a partner would
 * otherwise stand up. Prism serves bare `paths` and ignores the relative server URL, so,
 * as scripts/mock.sh and test/helpers/prism.ts do, it is handed a copy of the spec whose
 * paths carry the `/api` prefix. Prism runs in THIS process (its CLI module is imported
 * after argv is set), so the RSS the runner samples is Prism's own.
 * Prints one JSON line `{"port":N}` on stdout once Prism answers; SIGTERM stops it.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';

const root = resolve(import.meta.dirname, '../../..');
const doc = parse(readFileSync(join(root, 'spec/kasisto/1.0.yaml'), 'utf8')) as { servers?: Array<{ url?: string }>; paths: Record<string, unknown> };
const prefix = (doc.servers?.[0]?.url ?? '').replace(/\/+$/, '');
doc.paths = Object.fromEntries(Object.entries(doc.paths).map(([p, item]) => [prefix + p, item]));
const dir = mkdtempSync(join(tmpdir(), 'bench-prism-'));
const served = join(dir, 'kasisto.json');
writeFileSync(served, JSON.stringify(doc));

const port = await new Promise<number>((ok, fail) => {
  const srv = createServer();
  srv.once('error', fail);
  srv.listen(0, '127.0.0.1', () => {
    const a = srv.address();
    srv.close(() => (a && typeof a === 'object' ? ok(a.port) : fail(new Error('no port'))));
  });
});

// Prism logs every request at info (its default); that cost is part of what a partner runs.
// Its output goes to stderr here, which the runner discards: stdout carries our ready line.
process.stdout.write = ((write) =>
  function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    const text = typeof chunk === 'string' ? chunk : '';
    if (text.startsWith('{"port"')) return write.call(process.stdout, chunk as string, ...(rest as []));
    return process.stderr.write(chunk as string, ...(rest as []));
  })(process.stdout.write) as typeof process.stdout.write;

process.argv = [process.argv[0]!, 'prism', 'mock', '-h', '127.0.0.1', '-p', String(port), served];
await import(pathToFileURL(realpathSync(join(root, 'node_modules/.bin/prism'))).href);

const origin = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try {
    await (await fetch(`${origin}/__ready_probe`)).arrayBuffer();
    break;
  } catch {
    if (i > 600) throw new Error('Prism did not start within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}
process.stdout.write(`${JSON.stringify({ port })}\n`);

const stop = () => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
