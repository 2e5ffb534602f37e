import { Injectable } from '@nestjs/common';
import { execute, firstRow, rows } from '../../database/sql';
import { Transactions } from '../../database/transactions';
import type { AccountStatus } from '../../domain/mica-account-status';

/** A developer account as its owner sees it. */
export interface MicaDeveloperRecord {
  id: string;
  email: string;
  name: string;
  tokenRotatedAt: Date | null;
  createdAt: Date;
}

export interface MicaKeyRecord {
  id: string;
  developerId: string;
  name: string;
  keyPrefix: string;
  keyHint: string;
  createdAt: Date;
  revokedAt: Date | null;
  replacedByKeyId: string | null;
  lastUsedAt: Date | null;
  /** bigint arrives from the driver as a string. */
  requestCount: string;
}

/** A developer account as an operator sees it, with its keys' totals. */
export interface OperatorDeveloperRow {
  id: string;
  email: string | null;
  name: string | null;
  status: AccountStatus;
  created_at: Date;
  token_rotated_at: Date | null;
  suspended_at: Date | null;
  suspension_reason: string | null;
  erased_at: Date | null;
  active_keys: number;
  request_count: string;
  last_used_at: Date | null;
}

export interface RevokedKeyRow {
  id: string;
  name: string;
  key_prefix: string;
  key_hint: string;
}

export interface DeveloperFilter {
  status?: AccountStatus;
  /** Already lower-cased and escaped for LIKE. */
  like?: string;
  /** A uuid the search may also name. */
  id?: string;
}

const DEVELOPER_COLUMNS = `id, email, name, token_rotated_at AS "tokenRotatedAt", created_at AS "createdAt"`;
const KEY_COLUMNS = `id, developer_id AS "developerId", name, key_prefix AS "keyPrefix", key_hint AS "keyHint", created_at AS "createdAt",
  revoked_at AS "revokedAt", replaced_by_key_id AS "replacedByKeyId", last_used_at AS "lastUsedAt", request_count AS "requestCount"`;

const OPERATOR_DEVELOPER_SELECT = `
  SELECT d.id, d.email, d.name, d.status, d.created_at, d.token_rotated_at, d.suspended_at, d.suspension_reason, d.erased_at,
         (SELECT count(*)::int FROM mica_keys k WHERE k.developer_id = d.id AND k.revoked_at IS NULL) AS active_keys,
         (SELECT COALESCE(sum(k.request_count), 0)::text FROM mica_keys k WHERE k.developer_id = d.id) AS request_count,
         (SELECT max(k.last_used_at) FROM mica_keys k WHERE k.developer_id = d.id) AS last_used_at
    FROM mica_developers d`;

/** The SQL of MiCA developer accounts and their keys (tables mica_developers, mica_keys). */
@Injectable()
export class MicaAccountRepository {
  constructor(private readonly tx: Transactions) {}

  async insertDeveloper(email: string, emailCanonical: string, name: string, tokenDigest: Buffer): Promise<MicaDeveloperRecord> {
    const row = await firstRow<MicaDeveloperRecord>(
      this.tx.manager,
      `INSERT INTO mica_developers (email, email_canonical, name, management_token_digest) VALUES ($1, $2, $3, $4) RETURNING ${DEVELOPER_COLUMNS}`,
      [email, emailCanonical, name, tokenDigest],
    );
    return row!;
  }

  developer(id: string): Promise<MicaDeveloperRecord | undefined> {
    return firstRow<MicaDeveloperRecord>(this.tx.manager, `SELECT ${DEVELOPER_COLUMNS} FROM mica_developers WHERE id = $1`, [id]);
  }

  /**
   * Locks the account row for a change by its owner, only while the account is ACTIVE and, with the
   * presented token's digest, only while that is still the account's token. False when it is not.
   */
  async lockForOwnerChange(developerId: string, tokenDigest: Buffer | null): Promise<boolean> {
    const locked = await rows(
      this.tx.manager,
      `SELECT id FROM mica_developers WHERE id = $1 AND status = 'ACTIVE' AND ($2::bytea IS NULL OR management_token_digest = $2) FOR UPDATE`,
      [developerId, tokenDigest],
    );
    return locked.length > 0;
  }

  /** Locks the account row, whatever its state, for an operator's change; false when there is none. */
  async lock(developerId: string): Promise<boolean> {
    const locked = await rows(this.tx.manager, `SELECT id FROM mica_developers WHERE id = $1 FOR UPDATE`, [developerId]);
    return locked.length > 0;
  }

  /** Compare-and-set on the token digest: undefined when `presented` is no longer the account's token. */
  async rotateManagementToken(
    developerId: string,
    digest: Buffer,
    presented: Buffer | null,
  ): Promise<{ token_rotated_at: Date } | undefined> {
    return firstRow<{ token_rotated_at: Date }>(
      this.tx.manager,
      `UPDATE mica_developers SET management_token_digest = $2, token_rotated_at = now()
        WHERE id = $1 AND ($3::bytea IS NULL OR management_token_digest = $3) RETURNING token_rotated_at`,
      [developerId, digest, presented],
    );
  }

  async countActiveKeys(developerId: string): Promise<number> {
    const row = await firstRow<{ active: number }>(
      this.tx.manager,
      `SELECT count(*)::int AS active FROM mica_keys WHERE developer_id = $1 AND revoked_at IS NULL`,
      [developerId],
    );
    return row!.active;
  }

  async insertKey(developerId: string, name: string, key: { digest: Buffer; prefix: string; hint: string }): Promise<MicaKeyRecord> {
    const row = await firstRow<MicaKeyRecord>(
      this.tx.manager,
      `INSERT INTO mica_keys (developer_id, name, key_digest, key_prefix, key_hint) VALUES ($1, $2, $3, $4, $5) RETURNING ${KEY_COLUMNS}`,
      [developerId, name, key.digest, key.prefix, key.hint],
    );
    return row!;
  }

  key(developerId: string, keyId: string): Promise<MicaKeyRecord | undefined> {
    return firstRow<MicaKeyRecord>(this.tx.manager, `SELECT ${KEY_COLUMNS} FROM mica_keys WHERE id = $1 AND developer_id = $2`, [
      keyId,
      developerId,
    ]);
  }

  /** Revokes the key if it is still active; undefined when it is not (revoked already, or not the account's). */
  revokeKey(developerId: string, keyId: string): Promise<MicaKeyRecord | undefined> {
    return firstRow<MicaKeyRecord>(
      this.tx.manager,
      `UPDATE mica_keys SET revoked_at = now() WHERE id = $1 AND developer_id = $2 AND revoked_at IS NULL RETURNING ${KEY_COLUMNS}`,
      [keyId, developerId],
    );
  }

  /** Revokes the rotated key, naming its successor. */
  async retireKey(keyId: string, replacedByKeyId: string): Promise<MicaKeyRecord> {
    const row = await firstRow<MicaKeyRecord>(
      this.tx.manager,
      `UPDATE mica_keys SET revoked_at = now(), replaced_by_key_id = $2 WHERE id = $1 RETURNING ${KEY_COLUMNS}`,
      [keyId, replacedByKeyId],
    );
    return row!;
  }

  /** The active keys and the `revokedShown` newest revoked ones, newest first. */
  listKeys(developerId: string, revokedShown: number): Promise<MicaKeyRecord[]> {
    return rows<MicaKeyRecord>(
      this.tx.manager,
      `(SELECT ${KEY_COLUMNS} FROM mica_keys WHERE developer_id = $1 AND revoked_at IS NULL)
       UNION ALL
       (SELECT ${KEY_COLUMNS} FROM mica_keys WHERE developer_id = $1 AND revoked_at IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT $2)
       ORDER BY "createdAt" DESC, id DESC`,
      [developerId, revokedShown],
    );
  }

  /** Every key of the account, newest first, at most `limit`. */
  allKeys(developerId: string, limit: number): Promise<MicaKeyRecord[]> {
    return rows<MicaKeyRecord>(
      this.tx.manager,
      `SELECT ${KEY_COLUMNS} FROM mica_keys WHERE developer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
      [developerId, limit],
    );
  }

  /** The accounts matching the filter as an operator sees them, newest first, and how many match. */
  async listForOperator(filter: DeveloperFilter, limit: number, offset: number): Promise<{ rows: OperatorDeveloperRow[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) {
      params.push(filter.status);
      where.push(`d.status = $${params.length}`);
    }
    if (filter.like !== undefined) {
      params.push(filter.like);
      const like = `$${params.length}`;
      const clauses = [`lower(d.email) LIKE ${like} ESCAPE '\\'`, `lower(d.name) LIKE ${like} ESCAPE '\\'`];
      if (filter.id) {
        params.push(filter.id);
        clauses.push(`d.id = $${params.length}::uuid`);
      }
      where.push(`(${clauses.join(' OR ')})`);
    }
    const clause = where.length ? ` WHERE ${where.join(' AND ')}` : '';
    const [{ total }] = await rows<{ total: number }>(
      this.tx.manager,
      `SELECT count(*)::int AS total FROM mica_developers d${clause}`,
      params,
    );
    const found = await rows<OperatorDeveloperRow>(
      this.tx.manager,
      `${OPERATOR_DEVELOPER_SELECT}${clause} ORDER BY d.created_at DESC, d.id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    );
    return { rows: found, total };
  }

  operatorView(developerId: string): Promise<OperatorDeveloperRow | undefined> {
    return firstRow<OperatorDeveloperRow>(this.tx.manager, `${OPERATOR_DEVELOPER_SELECT} WHERE d.id = $1`, [developerId]);
  }

  async suspend(developerId: string, reason: string): Promise<void> {
    await execute(
      this.tx.manager,
      `UPDATE mica_developers SET status = 'SUSPENDED', suspended_at = now(), suspension_reason = $2 WHERE id = $1`,
      [developerId, reason],
    );
  }

  async restore(developerId: string): Promise<void> {
    await execute(
      this.tx.manager,
      `UPDATE mica_developers SET status = 'ACTIVE', suspended_at = NULL, suspension_reason = NULL WHERE id = $1`,
      [developerId],
    );
  }

  revokeAllKeys(developerId: string): Promise<RevokedKeyRow[]> {
    return rows<RevokedKeyRow>(
      this.tx.manager,
      `UPDATE mica_keys SET revoked_at = now() WHERE developer_id = $1 AND revoked_at IS NULL RETURNING id, name, key_prefix, key_hint`,
      [developerId],
    );
  }

  /**
   * Erasure of the account row: name and email removed (the unique indexes on lower(email) and
   * email_canonical ignore NULL, so the mailbox is free again) and the token replaced by `digest`.
   */
  async erase(developerId: string, digest: Buffer): Promise<void> {
    await execute(
      this.tx.manager,
      `UPDATE mica_developers SET status = 'ERASED', email = NULL, email_canonical = NULL, name = NULL, erased_at = now(), suspended_at = NULL, suspension_reason = NULL,
              management_token_digest = $2
        WHERE id = $1`,
      [developerId, digest],
    );
  }

  /** The account's audit events kept, but without name, email and client addresses. */
  async anonymiseTrail(developerId: string): Promise<void> {
    await execute(this.tx.manager, `UPDATE audit_events SET details = details - 'email' - 'name', ip = NULL WHERE developer_id = $1`, [
      developerId,
    ]);
  }
}
