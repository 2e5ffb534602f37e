import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { withDeadline } from './database-errors';
import { execute } from './sql';
import { Transactions } from './transactions';

export const DATABASE_HEALTH_SQL = { ping: 'SELECT 1' } as const;

/** Whether the database answers: one round trip through the pool, bounded by the pool's acquire timeout (plus slack). */
@Injectable()
export class DatabaseHealth {
  constructor(
    private readonly tx: Transactions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async answers(): Promise<boolean> {
    try {
      await withDeadline(execute(this.tx.manager, DATABASE_HEALTH_SQL.ping), this.config.database.acquireTimeoutMs + 500, 'readiness');
      return true;
    } catch {
      return false;
    }
  }
}
