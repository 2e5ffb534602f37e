import { Injectable } from '@nestjs/common';
import { firstRow, rows } from '../database/sql';
import { Transactions } from '../database/transactions';
import { effectiveStatusSql } from '../domain/instance-key.state';

export interface InstanceKeyHit {
  digest: Buffer;
  id: string;
  name: string;
  key_prefix: string;
  key_hint: string;
  instance_id: string;
  effective: string;
  /** What containment did to it now; null when it was final or contained already. */
  contained: 'revoked' | 'paused' | null;
}

export interface MicaKeyHit {
  digest: Buffer;
  id: string;
  name: string;
  key_prefix: string;
  key_hint: string;
  developer_id: string;
  /** Not revoked before this report: contained now. */
  open: boolean;
}

export interface RevokedKeyRow {
  id: string;
  name: string;
  key_prefix: string;
  key_hint: string;
  from_status: string;
}

const OWNER_LOCKS = {
  instance: `SELECT id FROM instances WHERE id IN (SELECT instance_id FROM instance_keys WHERE key_digest = ANY($1::bytea[])) ORDER BY id FOR UPDATE`,
  mica: `SELECT id FROM mica_developers WHERE id IN (SELECT developer_id FROM mica_keys WHERE key_digest = ANY($1::bytea[])) ORDER BY id FOR UPDATE`,
};

/**
 * The SQL of containing leaked keys and of the break-glass revocation. Owners are locked before
 * their keys, each set in id order (instances before developers), so two reports cannot deadlock.
 */
@Injectable()
export class ContainmentRepository {
  constructor(private readonly tx: Transactions) {}

  /** Locks the instances (or accounts) that own any of the digests' keys, in id order; false when none does. */
  async lockOwnersOf(kind: 'instance' | 'mica', digests: Buffer[]): Promise<boolean> {
    return (await rows(this.tx.manager, OWNER_LOCKS[kind], [digests])).length > 0;
  }

  /**
   * One statement reads the keys under lock, decides each and contains it: a 1,000-token report
   * costs one pass over the keys, not a read and then a write.
   */
  containInstanceKeys(digests: Buffer[], leakedKeyAction: string): Promise<InstanceKeyHit[]> {
    return rows<InstanceKeyHit>(
      this.tx.manager,
      `WITH hit AS (
         SELECT k.key_digest AS digest, k.id, k.name, k.key_prefix, k.key_hint, k.instance_id, ${effectiveStatusSql('k')} AS effective, k.paused_until
           FROM instance_keys k WHERE k.key_digest = ANY($1::bytea[]) ORDER BY k.id FOR UPDATE),
       decided AS (
         SELECT hit.*, CASE
             WHEN effective IN ('REVOKED', 'EXPIRED') THEN NULL
             -- A key in its rotation overlap already has a successor: ending the overlap is the containment.
             WHEN $2 = 'revoke' OR effective = 'PENDING_ROTATION' THEN 'revoked'
             -- Already contained by a pause without end (only containment makes one): nothing more.
             WHEN effective = 'PAUSED' AND paused_until IS NULL THEN NULL
             ELSE 'paused' END AS contained
           FROM hit),
       changed AS (
         UPDATE instance_keys k
            SET status = CASE WHEN d.contained = 'revoked' THEN 'REVOKED' ELSE 'PAUSED' END,
                revoked_at = CASE WHEN d.contained = 'revoked' THEN now() ELSE k.revoked_at END,
                -- No end: a leaked key stays paused until its owner resumes it (a false alarm) or revokes it.
                paused_until = CASE WHEN d.contained = 'paused' THEN NULL ELSE k.paused_until END,
                leaked_at = now()
           FROM decided d WHERE k.id = d.id AND d.contained IS NOT NULL
         RETURNING k.id)
       SELECT digest, id, name, key_prefix, key_hint, instance_id, effective, contained FROM decided ORDER BY id`,
      [digests, leakedKeyAction],
    );
  }

  /** Reads the MiCA keys under lock and revokes the open ones, in one statement. */
  containMicaKeys(digests: Buffer[]): Promise<MicaKeyHit[]> {
    return rows<MicaKeyHit>(
      this.tx.manager,
      `WITH hit AS (
         SELECT key_digest AS digest, id, name, key_prefix, key_hint, developer_id, revoked_at IS NULL AS open FROM mica_keys WHERE key_digest = ANY($1::bytea[]) ORDER BY id FOR UPDATE),
       changed AS (
         UPDATE mica_keys k SET revoked_at = now(), leaked_at = now() FROM hit WHERE k.id = hit.id AND hit.open RETURNING k.id)
       SELECT digest, id, name, key_prefix, key_hint, developer_id, open FROM hit ORDER BY id`,
      [digests],
    );
  }

  /** The instance's id, its row locked as every key change of the instance locks it. */
  async lockInstance(ref: string): Promise<string | undefined> {
    return (await firstRow<{ id: string }>(this.tx.manager, `SELECT id FROM instances WHERE ref = $1 FOR UPDATE`, [ref]))?.id;
  }

  /** Which of `keyIds` are keys of the instance. */
  async keysOf(instanceId: string, keyIds: string[]): Promise<string[]> {
    const found = await rows<{ id: string }>(
      this.tx.manager,
      `SELECT id FROM instance_keys WHERE instance_id = $1 AND id = ANY($2::uuid[])`,
      [instanceId, keyIds],
    );
    return found.map((f) => f.id);
  }

  /** Revokes every key of the instance that is not final, except `exceptKeyIds`, in creation order. */
  revokeAllExcept(instanceId: string, exceptKeyIds: string[]): Promise<RevokedKeyRow[]> {
    const effective = effectiveStatusSql('k');
    return rows<RevokedKeyRow>(
      this.tx.manager,
      `WITH t AS (
         SELECT k.id, ${effective} AS from_status FROM instance_keys k
          WHERE k.instance_id = $1 AND NOT (k.id = ANY($2::uuid[])) AND ${effective} NOT IN ('REVOKED', 'EXPIRED')
          ORDER BY k.created_at, k.id
          FOR UPDATE)
       UPDATE instance_keys k SET status = 'REVOKED', revoked_at = now() FROM t WHERE k.id = t.id
       RETURNING k.id, k.name, k.key_prefix, k.key_hint, t.from_status`,
      [instanceId, exceptKeyIds],
    );
  }
}
