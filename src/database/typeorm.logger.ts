import type { Logger as TypeOrmLogger } from 'typeorm';
import type { JsonLogger } from '../common/logging/json-logger';

function printable(parameters: unknown): unknown {
  if (!Array.isArray(parameters)) return parameters;
  // Digests are bytea parameters: they are not secrets, but nothing gains from printing them.
  // A batch of them (= ANY($1::bytea[])) is summarised too: a thousand digests print as one short line.
  return (parameters as unknown[]).map((p) =>
    Buffer.isBuffer(p)
      ? `[${p.length} bytes]`
      : Array.isArray(p) && p.length > 0 && p.every((v) => Buffer.isBuffer(v))
        ? `[${p.length} bytea values]`
        : p,
  );
}

const EXPECTED_SQLSTATES = new Set(['23505' /* unique_violation */]);

/** TypeORM's log output, as JSON lines through the redacting logger. */
export class TypeOrmJsonLogger implements TypeOrmLogger {
  constructor(
    private readonly logger: JsonLogger,
    private readonly logQueries: boolean,
  ) {}

  logQuery(query: string, parameters?: unknown[]): void {
    if (this.logQueries) this.logger.event('debug', 'query', { query, parameters: printable(parameters) });
  }
  logQueryError(error: string | Error, query: string, parameters?: unknown[]): void {
    // A unique violation is how the services learn of a duplicate (409 EMAIL_EXISTS and the like):
    // an expected answer, not a warning.
    const expected = typeof error !== 'string' && EXPECTED_SQLSTATES.has((error as { code?: string }).code ?? '');
    this.logger.event(expected ? 'debug' : 'warn', 'query failed', {
      error: typeof error === 'string' ? error : error.message,
      query,
      ...(this.logQueries ? { parameters: printable(parameters) } : {}),
    });
  }
  logQuerySlow(time: number, query: string): void {
    this.logger.event('warn', 'slow query', { ms: time, query });
  }
  logSchemaBuild(message: string): void {
    this.logger.event('info', message);
  }
  logMigration(message: string): void {
    this.logger.event('info', message, { context: 'migrations' });
  }
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    this.logger.event(level === 'warn' ? 'warn' : 'info', String(message));
  }
}
