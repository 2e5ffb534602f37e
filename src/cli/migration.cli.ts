import 'reflect-metadata';
import { loadConfig } from '../config/app.config';
import { JsonLogger } from '../common/logging/json-logger';
import { openDatabase } from '../database/database';
import { runMigrations } from '../database/migrations.runner';

/** `npm run migration:run`: applies pending migrations to DATABASE_URL, or to the embedded database in DATA_DIR. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = new JsonLogger(config.log.level);
  const db = await openDatabase(config, logger, { migrate: false });
  try {
    const applied = await runMigrations(db.dataSource, db.embedded);
    process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'The schema is up to date.\n');
  } finally {
    await db.close();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`Migration failed: ${e.message}\n`);
  process.exit(1);
});
