/**
 * `npm start`: validates the configuration, starts the connector and serves it; SIGTERM or
 * SIGINT stop it gracefully (no new connections, requests in flight finish, store closed).
 */
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, SETTING_NAMES, type Config } from './config.js';
import { describeSources, loadEnvFile } from './env-file.js';
import { startConnector } from './runtime.js';

async function main(): Promise<void> {
  let config: Config;
  let settings: string;
  try {
    settings = describeSources(loadEnvFile(SETTING_NAMES));
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
  // Before listen: a SIGTERM that arrives while it starts is a graceful stop too.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    connector.app.log.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
    const force = setTimeout(() => {
      connector.app.log.error({ timeout_ms: config.shutdownTimeoutMs }, 'requests still in flight at the shutdown deadline; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    connector
      .stop()
      .then(() => {
        connector.app.log.info({ signal }, 'stopped');
        process.exit(0);
      })
      .catch((error) => {
        connector.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  // SIGHUP: re-read FX_RATES_FILE (a bad file keeps the rates in force, and says why)
  process.on('SIGHUP', () => {
    connector.reloadFxRates('sighup').catch((error) => connector.app.log.error({ err: error }, 'exchange rates not reloaded; the previous rates stay in force'));
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  const address = await connector.app.listen({ host: config.host, port: config.port });
  if (config.nodeEnv === 'production') {
    // production output is JSON log lines only (Fastify has logged the address already)
    connector.app.log.info({ address, base_path: config.basePath, kasisto_api_revision: config.kasistoApiRevision, tls: Boolean(https), settings }, 'Kasisto connector started');
  } else {
    const lines = [`Kasisto connector listening on ${address}${config.basePath} (Kasisto API ${config.kasistoApiRevision})`, settings];
    if (connector.operatorUrl) lines.push(`Operator API listening on ${connector.operatorUrl}/operator/v1`);
    if (connector.sandboxUrl) lines.push(`Verify: embedded sandbox at ${connector.sandboxUrl} (set VERIFY_BASE_URL for a real Verify)`);
    // Development only: the operator needs the generated secret to call the API.
    if (connector.devSecret) lines.push(`Development secret (send it as the 'secret' header): ${connector.devSecret}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`connector: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
