import { Injectable } from '@nestjs/common';
import { execute, firstRow, rows } from '../database/sql';
import { Transactions } from '../database/transactions';
import type { InstanceStatus } from '../domain/instance-status';
import type { ServiceName } from '../domain/platform-services';
import type { KeyRestrictions } from '../domain/key-restrictions';
import { effectiveStatusSql, KeyStatus, StoredKeyStatus } from '../domain/instance-key.state';

/** An instance key as stored, without its digest (never read back). `status` never holds EXPIRED. */
export interface InstanceKeyRecord {
  id: string;
  instanceId: string;
  name: string;
  keyPrefix: string;
  keyHint: string;
  status: StoredKeyStatus;
  createdAt: Date;
  expiresAt: Date | null;
  pausedUntil: Date | null;
  rotatedAt: Date | null;
  revokedAt: Date | null;
  replacesKeyId: string | null;
  replacedByKeyId: string | null;
  lastUsedAt: Date | null;
  /** bigint, as the driver hands it back. */
  requestCount: string;
  services: ServiceName[] | null;
  allowedCidrs: string[] | null;
  rateLimitPerMinute: number | null;
}

/** A key read with the database clock (`now()`), which decides its effective status. */
export interface KeyRow extends InstanceKeyRecord {
  now: Date;
}

/** The instance row a key change locks first. */
export interface KeyInstance {
  id: string;
  ref: string;
  status: InstanceStatus;
  services: ServiceName[];
}

export interface NewKey {
  instanceId: string;
  name: string;
  digest: Buffer;
  prefix: string;
  hint: string;
  expiresAt: Date | null;
  replacesKeyId: string | null;
  restrictions: KeyRestrictions;
}

const KEY = `k.id, k.instance_id AS "instanceId", k.name, k.key_prefix AS "keyPrefix", k.key_hint AS "keyHint", k.status,
       k.created_at AS "createdAt", k.expires_at AS "expiresAt", k.paused_until AS "pausedUntil", k.rotated_at AS "rotatedAt",
       k.revoked_at AS "revokedAt", k.replaces_key_id AS "replacesKeyId", k.replaced_by_key_id AS "replacedByKeyId",
       k.last_used_at AS "lastUsedAt", k.request_count AS "requestCount", k.services, k.allowed_cidrs AS "allowedCidrs",
       k.rate_limit_per_minute AS "rateLimitPerMinute", now() AS now`;
const STATUS = effectiveStatusSql('k');

export const INSTANCE_KEY_SQL = {
  instanceByRef: `SELECT id, ref, status, services FROM instances WHERE ref = $1`,
  instanceById: `SELECT id, ref, status, services FROM instances WHERE id = $1`,
  /** The row lock that serialises every key change of one instance, across replicas. */
  lockInstanceByRef: `SELECT id, ref, status, services FROM instances WHERE ref = $1 FOR UPDATE`,
  lockInstanceById: `SELECT id, ref, status, services FROM instances WHERE id = $1 FOR UPDATE`,

  key: `SELECT ${KEY} FROM instance_keys k WHERE k.id = $1 AND k.instance_id = $2`,
  lockKey: `SELECT ${KEY} FROM instance_keys k WHERE k.id = $1 AND k.instance_id = $2 FOR UPDATE`,

  /** `$2`: the effective status to list, or null for all. */
  count: `SELECT count(*)::int AS total FROM instance_keys k WHERE k.instance_id = $1 AND ($2::text IS NULL OR ${STATUS} = $2)`,
  page: `SELECT ${KEY} FROM instance_keys k WHERE k.instance_id = $1 AND ($2::text IS NULL OR ${STATUS} = $2)
 ORDER BY k.created_at DESC, k.id DESC LIMIT $3 OFFSET $4`,
  countInStatuses: `SELECT count(*)::int AS n FROM instance_keys k WHERE k.instance_id = $1 AND ${STATUS} = ANY($2::text[])`,

  // clock_timestamp(): keys made in one transaction (a rotation) still list in creation order.
  insert: `INSERT INTO instance_keys AS k (instance_id, name, key_digest, key_prefix, key_hint, expires_at, replaces_key_id, services, allowed_cidrs, rate_limit_per_minute, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, clock_timestamp())
RETURNING ${KEY}`,

  update: `UPDATE instance_keys AS k SET name = $2, services = $3, allowed_cidrs = $4, rate_limit_per_minute = $5 WHERE k.id = $1 RETURNING ${KEY}`,

  /** Compare-and-set: only a key that is ACTIVE as of now enters its overlap. */
  beginOverlap: `UPDATE instance_keys k SET status = 'PENDING_ROTATION', rotated_at = now(), paused_until = NULL,
       expires_at = LEAST(COALESCE(k.expires_at, 'infinity'::timestamptz), now() + $2::int * interval '1 second')
 WHERE k.id = $1 AND ${STATUS} = 'ACTIVE'
RETURNING k.expires_at AS "expiresAt"`,
  linkSuccessor: `UPDATE instance_keys AS k SET replaced_by_key_id = $2 WHERE k.id = $1 RETURNING ${KEY}`,

  pause: `UPDATE instance_keys AS k SET status = 'PAUSED', paused_until = $2 WHERE k.id = $1 RETURNING ${KEY}`,
  resume: `UPDATE instance_keys AS k SET status = 'ACTIVE', paused_until = NULL WHERE k.id = $1 RETURNING ${KEY}`,
  revoke: `UPDATE instance_keys AS k SET status = 'REVOKED', revoked_at = now() WHERE k.id = $1 RETURNING ${KEY}`,
  delete: `DELETE FROM instance_keys WHERE id = $1`,

  /** The database clock decides "in the future", as it decides expiry. */
  pauseEnd: `SELECT e AS end, e > now() AS future FROM (SELECT COALESCE($1::timestamptz, now() + $2::int * interval '1 second') AS e) x`,
  isFuture: `SELECT $1::timestamptz > now() AS future`,
} as const;

/**
 * The instance_keys table, and the instance row each key change locks first. Every statement runs in
 * the running transaction (Transactions), which the service opens around a change.
 */
@Injectable()
export class InstanceKeyRepository {
  constructor(private readonly tx: Transactions) {}

  /** The instance by ref or id; `lock` takes its row FOR UPDATE until the transaction ends. */
  async instance(scope: { instanceRef: string } | { instanceId: string }, lock: boolean): Promise<KeyInstance | undefined> {
    const byRef = 'instanceRef' in scope;
    const sql = byRef
      ? lock
        ? INSTANCE_KEY_SQL.lockInstanceByRef
        : INSTANCE_KEY_SQL.instanceByRef
      : lock
        ? INSTANCE_KEY_SQL.lockInstanceById
        : INSTANCE_KEY_SQL.instanceById;
    return firstRow<KeyInstance>(this.tx.manager, sql, [byRef ? scope.instanceRef : scope.instanceId]);
  }

  /** The instance's key; `lock` takes its row FOR UPDATE until the transaction ends. */
  key(instanceId: string, keyId: string, lock: boolean): Promise<KeyRow | undefined> {
    return firstRow<KeyRow>(this.tx.manager, lock ? INSTANCE_KEY_SQL.lockKey : INSTANCE_KEY_SQL.key, [keyId, instanceId]);
  }

  async page(instanceId: string, status: KeyStatus | undefined, limit: number, offset: number): Promise<{ rows: KeyRow[]; total: number }> {
    const filter = status ?? null;
    const [{ total }] = await rows<{ total: number }>(this.tx.manager, INSTANCE_KEY_SQL.count, [instanceId, filter]);
    return { rows: await rows<KeyRow>(this.tx.manager, INSTANCE_KEY_SQL.page, [instanceId, filter, limit, offset]), total };
  }

  /** How many of the instance's keys are, as of now, in one of `statuses`. */
  async countInStatuses(instanceId: string, statuses: readonly KeyStatus[]): Promise<number> {
    const [{ n }] = await rows<{ n: number }>(this.tx.manager, INSTANCE_KEY_SQL.countInStatuses, [instanceId, statuses]);
    return n;
  }

  async insert(key: NewKey): Promise<KeyRow> {
    const r = key.restrictions;
    const [row] = await rows<KeyRow>(this.tx.manager, INSTANCE_KEY_SQL.insert, [
      key.instanceId,
      key.name,
      key.digest,
      key.prefix,
      key.hint,
      key.expiresAt,
      key.replacesKeyId,
      r.services,
      r.allowedCidrs,
      r.rateLimitPerMinute,
    ]);
    return row;
  }

  async update(keyId: string, name: string, restrictions: KeyRestrictions): Promise<KeyRow> {
    return this.one(INSTANCE_KEY_SQL.update, [
      keyId,
      name,
      restrictions.services,
      restrictions.allowedCidrs,
      restrictions.rateLimitPerMinute,
    ]);
  }

  /** The overlap's end, or undefined when the key was no longer ACTIVE. */
  async beginOverlap(keyId: string, overlapSeconds: number): Promise<Date | undefined> {
    return (await firstRow<{ expiresAt: Date }>(this.tx.manager, INSTANCE_KEY_SQL.beginOverlap, [keyId, overlapSeconds]))?.expiresAt;
  }

  linkSuccessor(keyId: string, successorId: string): Promise<KeyRow> {
    return this.one(INSTANCE_KEY_SQL.linkSuccessor, [keyId, successorId]);
  }

  pause(keyId: string, until: Date): Promise<KeyRow> {
    return this.one(INSTANCE_KEY_SQL.pause, [keyId, until]);
  }

  resume(keyId: string): Promise<KeyRow> {
    return this.one(INSTANCE_KEY_SQL.resume, [keyId]);
  }

  revoke(keyId: string): Promise<KeyRow> {
    return this.one(INSTANCE_KEY_SQL.revoke, [keyId]);
  }

  async delete(keyId: string): Promise<void> {
    await execute(this.tx.manager, INSTANCE_KEY_SQL.delete, [keyId]);
  }

  /** `until`, or now + `durationSeconds`, and whether it is in the future, by the database clock. */
  async pauseEnd(until: Date | null, durationSeconds: number | null): Promise<{ end: Date; future: boolean }> {
    const [row] = await rows<{ end: Date; future: boolean }>(this.tx.manager, INSTANCE_KEY_SQL.pauseEnd, [until, durationSeconds]);
    return row;
  }

  async isFuture(at: Date): Promise<boolean> {
    const [{ future }] = await rows<{ future: boolean }>(this.tx.manager, INSTANCE_KEY_SQL.isFuture, [at]);
    return future;
  }

  /** An UPDATE of a row this transaction holds locked: it is there. */
  private async one(sql: string, params: unknown[]): Promise<KeyRow> {
    const [row] = await rows<KeyRow>(this.tx.manager, sql, params);
    return row;
  }
}
