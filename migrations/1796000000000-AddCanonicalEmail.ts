import type { MigrationInterface, QueryRunner } from 'typeorm';
import { canonicalEmail } from '../src/domain/email-canonical';

/** The audit action that reports an account whose mailbox another, older account already holds. */
export const EMAIL_CONFLICT_ACTION = 'mica.developer.email_conflict';

/**
 * Fills email_canonical for accounts that have none, oldest first. The oldest account of a mailbox
 * gets it; a younger one of the same mailbox (made before addresses were compared canonically) is
 * kept as it is, with email_canonical NULL, and reported once as an audit event readable at
 * GET /api/admin/events: accounts hold keys in use, so nothing is merged or deleted here. An erased
 * account (SPEC §16) has no address left and is passed over.
 */
export async function backfillCanonicalEmails(q: QueryRunner): Promise<{ filled: number; conflicts: number }> {
  const rows: Array<{ id: string; email: string }> = await q.query(
    `SELECT id, email FROM mica_developers WHERE email_canonical IS NULL AND email IS NOT NULL ORDER BY created_at, id`,
  );
  if (rows.length === 0) return { filled: 0, conflicts: 0 };
  const held = new Map<string, string>();
  const taken: Array<{ id: string; email_canonical: string }> = await q.query(
    `SELECT id, email_canonical FROM mica_developers WHERE email_canonical = ANY($1::text[])`,
    [[...new Set(rows.map((r) => canonicalEmail(r.email)))]],
  );
  for (const t of taken) held.set(t.email_canonical, t.id);
  const fill: { ids: string[]; canon: string[] } = { ids: [], canon: [] };
  let conflicts = 0;
  for (const row of rows) {
    const canon = canonicalEmail(row.email);
    const holder = held.get(canon);
    if (holder === undefined) {
      held.set(canon, row.id);
      fill.ids.push(row.id);
      fill.canon.push(canon);
      continue;
    }
    conflicts++;
    await q.query(
      `INSERT INTO audit_events (actor_type, actor_id, action, target_type, target_id, developer_id, details)
       SELECT 'system', NULL, $1::varchar, 'mica_developer', $2::varchar, NULL, jsonb_build_object('sameMailboxAs', $3::text)
        WHERE NOT EXISTS (SELECT 1 FROM audit_events WHERE action = $1::varchar AND target_id = $2::varchar)`,
      [EMAIL_CONFLICT_ACTION, row.id, holder],
    );
  }
  if (fill.ids.length > 0) {
    await q.query(
      `UPDATE mica_developers d SET email_canonical = v.canon FROM unnest($1::uuid[], $2::text[]) AS v(id, canon) WHERE d.id = v.id`,
      [fill.ids, fill.canon],
    );
  }
  return { filled: fill.ids.length, conflicts };
}

export class AddCanonicalEmail1796000000000 implements MigrationInterface {
  name = 'AddCanonicalEmail1796000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mica_developers ADD COLUMN email_canonical text`);
    await backfillCanonicalEmails(q);
    // One account per mailbox (SPEC §7); concurrent signups collide here, not in app code.
    await q.query(`CREATE UNIQUE INDEX mica_developers_email_canonical_key ON mica_developers (email_canonical)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX mica_developers_email_canonical_key`);
    await q.query(`ALTER TABLE mica_developers DROP COLUMN email_canonical`);
  }
}
