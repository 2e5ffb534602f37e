import type { MigrationInterface, QueryRunner } from 'typeorm';

/** GET /api/admin/events and the retention of failed attempts read events of no tenant by action and time. */
export class IndexUnownedAuditEvents1796000000001 implements MigrationInterface {
  name = 'IndexUnownedAuditEvents1796000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX audit_events_unowned_idx ON audit_events (action, at) WHERE instance_id IS NULL AND developer_id IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX audit_events_unowned_idx`);
  }
}
