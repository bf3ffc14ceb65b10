/**
 * Benchmark server: a tiny round-robin HTTP proxy (node:http) in front of several connector
 * instances, as a load balancer would stand. Each request goes to the next target in turn,
 * over a keep-alive agent; bodies are streamed both ways. A target that fails answers 502.
 *
 *   BENCH_PROXY_TARGETS  comma-separated origins, e.g. http://127.0.0.1:4001,http://127.0.0.1:4002
 *
 * Prints `{"port":N}` on stdout when ready; SIGTERM stops it.
 */
import { Agent, createServer, request } from 'node:http';

const targets = (process.env.BENCH_PROXY_TARGETS ?? '')
  .split(',')
  .filter(Boolean)
  .map((origin) => new URL(origin));
if (targets.length === 0) {
  process.stderr.write('BENCH_PROXY_TARGETS is required\n');
  process.exit(2);
}
const agent = new Agent({ keepAlive: true, maxSockets: 1024, maxFreeSockets: 1024 });
let next = 0;

const server = createServer((req, res) => {
  const target = targets[next]!;
  next = (next + 1) % targets.length;
  const upstream = request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end('{"code":"proxy_error","message":"the target failed"}');
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
