/**
 * `npm start`: validates the configuration, starts the connector and serves it; SIGTERM or
 * SIGINT stop it gracefully (no new connections, requests in flight finish, store closed).
 */
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from './config.js';
import { startConnector } from './runtime.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`connector: refusing to start, ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const https = config.tlsCertFile && config.tlsKeyFile ? { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) } : null;
  const connector = await startConnector(config, { https });
  const address = await connector.app.listen({ host: config.host, port: config.port });
  const lines = [`Kasisto connector listening on ${address}${config.basePath}`];
  if (connector.sandboxUrl) lines.push(`Verify: embedded sandbox at ${connector.sandboxUrl} (set VERIFY_BASE_URL for a real Verify)`);
  // Development only: the operator needs the generated secret to call the API.
  if (connector.devSecret) lines.push(`Development secret (send it as the 'secret' header): ${connector.devSecret}`);
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    connector.app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    connector
      .stop()
      .then(() => process.exit(0))
      .catch((error) => {
        connector.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`connector: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
