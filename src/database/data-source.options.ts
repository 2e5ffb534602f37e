import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app.config';
import type { JsonLogger } from '../common/logging/json-logger';
import { MIGRATIONS } from '../../migrations';
import { TypeOrmJsonLogger } from './typeorm.logger';

export type EntityList = NonNullable<DataSourceOptions['entities']>;

export interface DatabaseEndpoint {
  url?: string;
  host?: string;
  port?: number;
  embedded: boolean;
}

/**
 * The one place that turns configuration into TypeORM options, for the app and every CLI alike.
 * `entities` comes from the composition root (src/entities.ts), the one list that knows every feature.
 */
export function dataSourceOptions(
  config: AppConfig,
  endpoint: DatabaseEndpoint,
  logger: JsonLogger,
  entities: EntityList,
): DataSourceOptions {
  const db = config.database;
  return {
    type: 'postgres',
    ...(endpoint.url ? { url: endpoint.url } : { host: endpoint.host, port: endpoint.port, username: 'postgres', database: 'postgres' }),
    entities,
    migrations: MIGRATIONS,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    synchronize: false,
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    applicationName: 'trusset-key-service',
    logger: new TypeOrmJsonLogger(logger, config.log.queries),
    logging: config.log.queries ? 'all' : ['error', 'warn', 'migration'],
    maxQueryExecutionTime: 1000,
    extra: {
      max: db.poolSize,
      // Bounds the wait for a pooled connection, so a saturated pool fails fast instead of hanging.
      connectionTimeoutMillis: db.acquireTimeoutMs,
      idleTimeoutMillis: 30_000,
      // Enforced by the server (cancels the statement, releases locks) and by the client as a backstop.
      statement_timeout: endpoint.embedded ? undefined : db.statementTimeoutMs,
      query_timeout: db.statementTimeoutMs + 1000,
      keepAlive: true,
    },
  };
}
