/**
 * The rules of `npm run migration:create -- VerbNoun` (migration-create.cli.ts), kept apart from the
 * file system so the spec can hold them: the name, the timestamp, the new file and its line in
 * migrations/index.ts.
 */

/** What a migration can do to the schema; its name starts with one of these, then says to what. */
export const MIGRATION_VERBS = [
  'Add',
  'Allow',
  'Alter',
  'Backfill',
  'Change',
  'Create',
  'Drop',
  'Extend',
  'Index',
  'Merge',
  'Move',
  'Narrow',
  'Remove',
  'Rename',
  'Replace',
  'Require',
  'Split',
  'Widen',
] as const;

const PASCAL_WORDS = /^(?:[A-Z][a-z0-9]*)+$/;

/** Why `name` cannot name a migration, or undefined when it is a VerbNoun such as `AddKeyRestrictions`. */
export function migrationNameProblem(name: string): string | undefined {
  if (!PASCAL_WORDS.test(name)) return `"${name}" is not PascalCase letters and digits (say AddKeyRestrictions)`;
  const words = name.match(/[A-Z][a-z0-9]*/g)!;
  if (!(MIGRATION_VERBS as readonly string[]).includes(words[0])) {
    return `"${name}" does not start with a verb: one of ${MIGRATION_VERBS.join(', ')}`;
  }
  if (words.length < 2) return `"${name}" names no noun after its verb (say ${words[0]}KeyRestrictions)`;
  return undefined;
}

/**
 * Milliseconds, like the migrations before it, and later than all of them: TypeORM runs migrations
 * in timestamp order, and some stand at dates still ahead of the clock.
 */
export function nextTimestamp(existing: readonly number[], now: number): number {
  return Math.max(now, ...existing.map((t) => t + 1));
}

/** The timestamp of a migration file name (`1796000000001-IndexUnownedAuditEvents.ts`), or null for another file. */
export function timestampOf(fileName: string): number | null {
  const match = /^(\d{13})-[A-Za-z0-9]+\.ts$/.exec(fileName);
  return match ? Number(match[1]) : null;
}

/** The new migration: its up and down throw until written, so an unfinished one can never be recorded as applied. */
export function migrationSource(name: string, timestamp: number): string {
  const className = `${name}${timestamp}`;
  return `import type { MigrationInterface, QueryRunner } from 'typeorm';

/** What this migration changes, and why. */
export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(q: QueryRunner): Promise<void> {
    throw new Error('${className}.up is not written yet (q.query: the SQL that makes the change)');
  }

  async down(q: QueryRunner): Promise<void> {
    throw new Error('${className}.down is not written yet (q.query: the SQL that undoes up)');
  }
}
`;
}

/** migrations/index.ts with the new migration imported after the last import and listed last in MIGRATIONS. */
export function addToIndex(index: string, name: string, timestamp: number): string {
  const className = `${name}${timestamp}`;
  const lines = index.split('\n');
  const lastImport = lines.reduce((last, line, i) => (line.startsWith('import ') ? i : last), -1);
  const close = lines.indexOf(
    '];',
    lines.findIndex((line) => line.startsWith('export const MIGRATIONS = [')),
  );
  if (lastImport < 0 || close < 0) throw new Error('migrations/index.ts no longer has its imports and its MIGRATIONS list');
  lines.splice(close, 0, `  ${className},`);
  lines.splice(lastImport + 1, 0, `import { ${className} } from './${timestamp}-${name}';`);
  return lines.join('\n');
}
