import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app.config';
import type { JsonLogger } from '../common/logging/json-logger';
import { dataSourceOptions, EntityList } from './data-source.options';
import { EmbeddedPostgres } from './embedded-postgres';
import { runMigrations } from './migrations.runner';

export interface OpenDatabase {
  dataSource: DataSource;
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * Opens the configured database — the PostgreSQL server of DATABASE_URL, or the embedded one in
 * DATA_DIR — and brings its schema up to date. Used by the server and by every CLI, each handing
 * in the entity list of src/entities.ts.
 */
export async function openDatabase(
  config: AppConfig,
  logger: JsonLogger,
  options: { entities: EntityList; migrate?: boolean },
): Promise<OpenDatabase> {
  const embedded = config.database.url ? undefined : await EmbeddedPostgres.start(config.database.dataDir);
  try {
    const endpoint = embedded
      ? { host: embedded.host, port: embedded.port, embedded: true }
      : { url: config.database.url, embedded: false };
    const dataSource = new DataSource(dataSourceOptions(config, endpoint, logger, options.entities));
    await dataSource.initialize();
    if (options.migrate !== false) {
      const applied = await runMigrations(dataSource, !!embedded);
      if (applied.length) logger.event('info', 'migrations applied', { migrations: applied });
    }
    let closed = false;
    return {
      dataSource,
      embedded: !!embedded,
      async close() {
        if (closed) return;
        closed = true;
        if (dataSource.isInitialized) await dataSource.destroy();
        await embedded?.stop();
      },
    };
  } catch (e) {
    await embedded?.stop();
    throw e;
  }
}
