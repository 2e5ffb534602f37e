import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { loadConfig } from '../config/app.config';
import { JsonLogger } from '../common/logging/json-logger';
import { openDatabase } from '../database/database';
import { ENTITIES } from '../entities';
import { Transactions } from '../database/transactions';
import { IssuerRepository } from '../mica/register/issuer.repository';
import { RegisterImportService } from '../mica/register/register-import.service';
import { RegisterRepository } from '../mica/register/register.repository';
import { RegisterSyncService, SyncReport } from '../mica/register/register-sync.service';
import { RegisterSummaryService } from '../mica/register/register-summary.service';

/**
 * `npm run mica:import -- <folder>`: imports CASPS.csv, ARTZZ.csv, EMTWP.csv, OTHER.csv and NCASP.csv
 * from a folder, by the same code path as the sync. Prints one line per register; exits 1 when a
 * register was refused or could not be read (its previous data stays).
 */
async function main(): Promise<number> {
  const folder = process.argv[2];
  if (!folder || process.argv.length > 3) {
    process.stderr.write('Usage: npm run mica:import -- <folder holding CASPS.csv, ARTZZ.csv, EMTWP.csv, OTHER.csv, NCASP.csv>\n');
    return 2;
  }
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig(process.env);
  const logger = new JsonLogger(config.log.level);
  const db = await openDatabase(config, logger, { entities: ENTITIES });
  try {
    const tx = new Transactions(db.dataSource);
    const registers = new RegisterRepository(tx);
    const importer = new RegisterImportService(config, tx, registers, logger);
    const report = await new RegisterSyncService(
      config,
      registers,
      importer,
      logger,
      new RegisterSummaryService(new IssuerRepository(tx)),
    ).run({ folder }, 'cli');
    process.stdout.write(summary(report));
    return report.ok ? 0 : 1;
  } finally {
    await db.close();
  }
}

function summary(report: SyncReport): string {
  const lines = report.registers.map((r) => {
    const counts = r.outcome === 'imported' ? ` (+${r.added} added, ${r.changed} changed, -${r.removed} removed)` : '';
    const rows = r.rows !== undefined ? ` ${r.rows} rows` : '';
    return `  ${r.register.padEnd(6)} ${r.outcome.padEnd(12)}${rows}${counts}${r.message ? ` — ${r.message}` : ''}`;
  });
  return `MiCA register import from ${report.source}: ${report.ok ? 'ok' : 'NOT OK (registers below kept their previous data)'}\n${lines.join('\n')}\n`;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`MiCA import failed: ${e.message}\n`);
    process.exit(1);
  },
);
