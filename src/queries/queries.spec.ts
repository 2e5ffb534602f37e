import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_SQL } from '../audit/audit.repository';
import { DATABASE_HEALTH_SQL } from '../database/database-health';
import { IDEMPOTENCY_SQL } from '../idempotency/idempotency.repository';
import { INSTANCE_KEY_SQL } from '../instance-keys/instance-key.repository';
import { INSTANCE_SQL } from '../instances/instance.repository';
import { USAGE_SQL } from '../usage/usage.repository';

/**
 * Each repository's statements, written out to src/queries/<repository>.sql, so a change of SQL shows
 * in review as a diff of plain SQL (as Immich does). A repository with SQL constants is listed here.
 */
const REPOSITORIES: Record<string, Record<string, string>> = {
  'audit.repository': AUDIT_SQL,
  'database-health': DATABASE_HEALTH_SQL,
  'idempotency.repository': IDEMPOTENCY_SQL,
  'instance-key.repository': INSTANCE_KEY_SQL,
  'instance.repository': INSTANCE_SQL,
  'usage.repository': USAGE_SQL,
};

function render(file: string, statements: Record<string, string>): string {
  const header = `-- Written by src/queries/queries.spec.ts from ${file}.ts: do not edit by hand.\n`;
  return (
    header +
    Object.entries(statements)
      .map(([name, sql]) => `\n-- ${name}\n${sql.trim()};\n`)
      .join('')
  );
}

describe('src/queries/*.sql', () => {
  it.each(Object.keys(REPOSITORIES))('%s.sql is the SQL of the repository', (file) => {
    const path = join(__dirname, `${file}.sql`);
    const expected = render(file, REPOSITORIES[file]);
    const committed = existsSync(path) ? readFileSync(path, 'utf8') : null;
    // Rewritten when out of date, so the next run passes and `git diff` shows the change to review and commit.
    if (committed !== expected) writeFileSync(path, expected);
    expect(committed).toBe(expected);
  });
});
