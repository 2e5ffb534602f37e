import 'reflect-metadata';
import { loadConfig } from '../config/app.config';
import { JsonLogger } from '../common/logging/json-logger';
import { openDatabase } from '../database/database';
import { revertLastMigration, runMigrations } from '../database/migrations.runner';
import { ENTITIES } from '../entities';

/**
 * `npm run migration:run`: applies pending migrations; `npm run migration:revert`: reverts the last
 * applied one. Both on DATABASE_URL, or on the embedded database in DATA_DIR.
 */
async function main(command: string | undefined): Promise<void> {
  if (command !== 'run' && command !== 'revert') throw new Error(`expected "run" or "revert", got ${JSON.stringify(command)}`);
  const config = loadConfig(process.env);
  const logger = new JsonLogger(config.log.level);
  const db = await openDatabase(config, logger, { entities: ENTITIES, migrate: false });
  try {
    if (command === 'run') {
      const applied = await runMigrations(db.dataSource, db.embedded);
      process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'The schema is up to date.\n');
    } else {
      const reverted = await revertLastMigration(db.dataSource, db.embedded);
      process.stdout.write(reverted ? `Reverted: ${reverted}\n` : 'No migration has been applied.\n');
    }
  } finally {
    await db.close();
  }
}

main(process.argv[2]).catch((e: Error) => {
  process.stderr.write(`Migration failed: ${e.message}\n`);
  process.exit(1);
});
