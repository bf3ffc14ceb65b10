/**
 * The container's HEALTHCHECK: GET /healthz on this instance, with node (the runtime image
 * has no curl). Exit 0 when it answers 200, 1 otherwise (or after 3 s). Over https when the
 * server terminates TLS itself; its certificate is for the service name, not 127.0.0.1, so
 * this local probe does not verify it.
 *   node dist/src/healthcheck.js
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const tls = Boolean(process.env['TLS_CERT_FILE']);
const port = Number(process.env['PORT'] || 8000);
const make = tls ? httpsRequest : httpRequest;
const req = make({ host: '127.0.0.1', port, path: '/healthz', method: 'GET', timeout: 3000, rejectUnauthorized: false }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (error) => {
  process.stderr.write(`healthcheck: ${error.message}\n`);
  process.exit(1);
});
req.end();
