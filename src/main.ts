import 'reflect-metadata';
import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError, loadConfig } from './config/app.config';
import { JsonLogger } from './common/logging/json-logger';
import { createApp } from './app.setup';

async function main(): Promise<void> {
  // A .env file in the working directory fills in variables the environment does not set.
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config;
  try {
    config = loadConfig(process.env);
    await resolvableHost(config.http.host);
  } catch (e) {
    if (e instanceof ConfigError) {
      // One line naming the variable, before the database or anything else is touched (EX_CONFIG).
      process.stderr.write(`${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
  const logger = new JsonLogger(config.log.level);
  if (config.auth.adminTokenGenerated) {
    // Printed once, on purpose and outside the redacting logger: this is the only way to learn it.
    process.stderr.write(
      `\nNo ADMIN_TOKEN set: generated one for this run (set ADMIN_TOKEN to keep it fixed):\n\n  ADMIN_TOKEN=${config.auth.adminToken}\n\n`,
    );
  }
  if (config.secrets.generated) {
    logger.event(
      'warn',
      'no SECRETS_KEY set: generated one for this run; idempotent answers stored now cannot be replayed after a restart',
    );
  }
  const app = await createApp(config, logger);
  await app.listen(config.http.port, config.http.host);
  logger.event('info', 'listening', {
    port: config.http.port,
    database: config.database.url ? 'postgres' : `embedded (${config.database.dataDir})`,
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.event('info', 'shutting down', { signal });
    setTimeout(() => {
      logger.event('error', 'shutdown timed out; exiting');
      process.exit(1);
    }, config.http.shutdownTimeoutMs).unref();
    try {
      await app.close();
      process.exit(0);
    } catch (e) {
      logger.event('error', 'shutdown failed', { err: e });
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** A host name that does not resolve would only fail at listen, after the database was opened and migrated. */
async function resolvableHost(host: string): Promise<void> {
  if (isIP(host) !== 0) return;
  try {
    await lookup(host);
  } catch {
    throw new ConfigError('HOST', `must be an IP address or a host name that resolves, got "${host}"`);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`Failed to start: ${e.message}\n`);
  process.exit(1);
});
