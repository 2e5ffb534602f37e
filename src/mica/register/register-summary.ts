import type { DataSource } from 'typeorm';

export interface RegisterSummary {
  totalIssuers: number;
  /** End of the last sync run in which every register succeeded; a failed run never moves it. */
  lastSync: string | null;
}

/** What /api/mica/v1/health and the statistics report about the register data. */
export async function readRegisterSummary(db: DataSource): Promise<RegisterSummary> {
  const [row] = (await db.query(
    `SELECT (SELECT count(*)::int FROM mica_issuers) AS total, (SELECT max(finished_at) FROM mica_sync_runs WHERE ok) AS last_sync`,
  )) as Array<{ total: number; last_sync: Date | null }>;
  return { totalIssuers: row.total, lastSync: row.last_sync ? new Date(row.last_sync).toISOString() : null };
}
