import { DataSource, MigrationExecutor } from 'typeorm';

/** Arbitrary constant naming this service's migration lock among other advisory locks. */
const MIGRATION_LOCK_ID = 724_118_301;

/**
 * Applies pending migrations. On a PostgreSQL server they run under a session advisory lock, so
 * replicas starting together run them once, one after another. The embedded database is one
 * process with one connection, so it needs (and can hold) no such lock. Its two statements stay here,
 * not in a repository: they run before Nest (and Transactions) exist, on the session that holds the lock.
 */
export async function runMigrations(dataSource: DataSource, embedded: boolean): Promise<string[]> {
  return underMigrationLock(dataSource, embedded, async () => (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name));
}

/**
 * Reverts the last applied migration (its `down`, in one transaction), under the same lock as
 * runMigrations. Answers its name, or null when none was applied.
 */
export async function revertLastMigration(dataSource: DataSource, embedded: boolean): Promise<string | null> {
  return underMigrationLock(dataSource, embedded, async () => {
    // Newest first (by the migrations table's id), the order undoLastMigration reverts in.
    const [last] = await new MigrationExecutor(dataSource).getExecutedMigrations();
    if (!last) return null;
    await dataSource.undoLastMigration({ transaction: 'each' });
    return last.name;
  });
}

async function underMigrationLock<T>(dataSource: DataSource, embedded: boolean, work: () => Promise<T>): Promise<T> {
  if (embedded) return work();
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      // A second DataSource-level connection is fine here: the pool of a server has several.
      return await work();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await runner.release();
  }
}
