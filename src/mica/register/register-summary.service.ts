import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface RegisterSummary {
  totalIssuers: number;
  /** End of the last sync run in which every register succeeded; a failed run never moves it. */
  lastSync: string | null;
}

/** How long a summary may be reused: it only changes on an import, and this process forgets it then. */
const SUMMARY_TTL_MS = 1000;

/**
 * What /api/mica/v1/health and the statistics report about the register data. The health route is
 * what clients poll, so the count is read at most once a second (concurrent callers share one read)
 * and forgotten the moment an import or sync in this process commits; an import run by the CLI in
 * another process shows within the second.
 */
@Injectable()
export class RegisterSummaryService {
  private cached?: { value: Promise<RegisterSummary>; at: number };

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  read(): Promise<RegisterSummary> {
    const now = performance.now();
    if (!this.cached || now - this.cached.at > SUMMARY_TTL_MS) {
      const value = this.query();
      this.cached = { value, at: now };
      value.catch(() => (this.cached = undefined));
    }
    return this.cached.value;
  }

  forget(): void {
    this.cached = undefined;
  }

  private async query(): Promise<RegisterSummary> {
    const [row] = (await this.dataSource.query(
      `SELECT (SELECT count(*)::int FROM mica_issuers) AS total, (SELECT max(finished_at) FROM mica_sync_runs WHERE ok) AS last_sync`,
    )) as Array<{ total: number; last_sync: Date | null }>;
    return { totalIssuers: row.total, lastSync: row.last_sync ? new Date(row.last_sync).toISOString() : null };
  }
}
