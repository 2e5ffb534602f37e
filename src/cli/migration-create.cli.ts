import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { addToIndex, migrationNameProblem, migrationSource, nextTimestamp, timestampOf } from './migration-create';

const MIGRATIONS_DIR = resolve(__dirname, '../../migrations');

/**
 * `npm run migration:create -- VerbNoun`: writes migrations/<timestamp>-<VerbNoun>.ts, whose up and
 * down throw until they are written, and lists it last in migrations/index.ts.
 */
function main(args: string[]): number {
  const [name] = args;
  if (args.length !== 1) {
    process.stderr.write('Usage: npm run migration:create -- <VerbNoun>, e.g. AddKeyRestrictions\n');
    return 2;
  }
  const problem = migrationNameProblem(name);
  if (problem) {
    process.stderr.write(`Refused: ${problem}\n`);
    return 2;
  }
  const files = readdirSync(MIGRATIONS_DIR);
  const existing = files.map(timestampOf).filter((t): t is number => t !== null);
  if (files.some((f) => f.endsWith(`-${name}.ts`))) {
    process.stderr.write(`Refused: a migration named ${name} exists already\n`);
    return 2;
  }
  const timestamp = nextTimestamp(existing, Date.now());
  const file = join(MIGRATIONS_DIR, `${timestamp}-${name}.ts`);
  const index = join(MIGRATIONS_DIR, 'index.ts');
  writeFileSync(file, migrationSource(name, timestamp));
  writeFileSync(index, addToIndex(readFileSync(index, 'utf8'), name, timestamp));
  process.stdout.write(`Created migrations/${timestamp}-${name}.ts and listed it in migrations/index.ts\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
