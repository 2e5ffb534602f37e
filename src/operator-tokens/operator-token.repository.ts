import { Injectable } from '@nestjs/common';
import { firstRow, rows } from '../database/sql';
import { Transactions } from '../database/transactions';
import type { OperatorTokenStatus } from './operator-token.dto';
import type { OperatorScope } from '../domain/operator-token.scopes';

/** What an operator token may hand on: its own scopes, instances and lifetime, never more. */
export interface Powers {
  scopes: OperatorScope[];
  instanceRefs: string[] | null;
  expiresAt: Date | null;
}

export interface TokenRow {
  id: string;
  name: string;
  token_prefix: string;
  token_hint: string;
  scopes: OperatorScope[];
  instance_refs: string[] | null;
  expires_at: Date | null;
  created_at: Date;
  created_by_type: 'admin' | 'operator';
  created_by_id: string | null;
  created_by_name: string | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  request_count: string;
  status: OperatorTokenStatus;
}

export interface LockedRow {
  id: string;
  scopes: OperatorScope[];
  instance_refs: string[] | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  expired: boolean;
}

export interface NewToken {
  name: string;
  digest: Buffer;
  prefix: string;
  hint: string;
  scopes: OperatorScope[];
  instanceRefs: string[] | null;
  expiresAt: Date | null;
  creator: { type: string; id: string | null; name: string | null };
}

const STATUS_SQL = `CASE WHEN t.revoked_at IS NOT NULL THEN 'REVOKED' WHEN t.expires_at IS NOT NULL AND t.expires_at <= now() THEN 'EXPIRED' ELSE 'ACTIVE' END`;
const COLUMNS = `t.id, t.name, t.token_prefix, t.token_hint, t.scopes, t.instance_refs, t.expires_at, t.created_at, t.created_by_type,
  t.created_by_id, t.created_by_name, t.revoked_at, t.last_used_at, t.request_count, ${STATUS_SQL} AS status`;

/**
 * Tokens within the holder's powers, as SQL over `t` with parameters from `first`: scopes a subset
 * of the holder's, instances a subset (an unrestricted token only for an unrestricted holder), and
 * an expiry no later than the holder's. An operator token sees and revokes only tokens it could
 * have created itself; a more powerful one is 404 to it, like another tenant's resource.
 */
function withinPowers(powers: Powers | null, first: number): { sql: string; params: unknown[] } {
  if (!powers) return { sql: 'TRUE', params: [] };
  return {
    sql: `t.scopes <@ $${first}::text[]
      AND ($${first + 1}::text[] IS NULL OR (t.instance_refs IS NOT NULL AND t.instance_refs <@ $${first + 1}::text[]))
      AND ($${first + 2}::timestamptz IS NULL OR (t.expires_at IS NOT NULL AND t.expires_at <= $${first + 2}::timestamptz))`,
    params: [powers.scopes, powers.instanceRefs, powers.expiresAt],
  };
}

/** The SQL of operator tokens (table operator_tokens), apart from the verifier's lookup. */
@Injectable()
export class OperatorTokenRepository {
  constructor(private readonly tx: Transactions) {}

  /** The token's powers, its row locked FOR SHARE until the transaction ends; undefined when revoked or expired. */
  async lockPowers(tokenId: string): Promise<Powers | undefined> {
    const row = await firstRow<{ scopes: OperatorScope[]; instance_refs: string[] | null; expires_at: Date | null }>(
      this.tx.manager,
      `SELECT scopes, instance_refs, expires_at FROM operator_tokens
        WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) FOR SHARE`,
      [tokenId],
    );
    return row && { scopes: row.scopes, instanceRefs: row.instance_refs, expiresAt: row.expires_at };
  }

  /** Whether `time` is after the database clock's now. */
  async isFuture(time: Date): Promise<boolean> {
    const row = await firstRow<{ future: boolean }>(this.tx.manager, `SELECT $1::timestamptz > now() AS future`, [time]);
    return row!.future;
  }

  /** Which of `refs` name instances. */
  async existingInstanceRefs(refs: string[]): Promise<string[]> {
    const found = await rows<{ ref: string }>(this.tx.manager, `SELECT ref FROM instances WHERE ref = ANY($1::text[])`, [refs]);
    return found.map((f) => f.ref);
  }

  async insert(t: NewToken): Promise<TokenRow> {
    const row = await firstRow<TokenRow>(
      this.tx.manager,
      `INSERT INTO operator_tokens AS t (name, token_digest, token_prefix, token_hint, scopes, instance_refs, expires_at, created_by_type, created_by_id, created_by_name)
       VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7, $8, $9, $10)
       RETURNING ${COLUMNS}`,
      [t.name, t.digest, t.prefix, t.hint, t.scopes, t.instanceRefs, t.expiresAt, t.creator.type, t.creator.id, t.creator.name],
    );
    return row!;
  }

  /** The tokens within `powers` (of one status when given), newest first, and how many there are. */
  async list(
    powers: Powers | null,
    status: OperatorTokenStatus | undefined,
    limit: number,
    offset: number,
  ): Promise<{ rows: TokenRow[]; total: number }> {
    const scope = withinPowers(powers, 1);
    const params = [...scope.params];
    let where = scope.sql;
    if (status) {
      params.push(status);
      where += ` AND ${STATUS_SQL} = $${params.length}`;
    }
    const [{ total }] = await rows<{ total: number }>(
      this.tx.manager,
      `SELECT count(*)::int AS total FROM operator_tokens t WHERE ${where}`,
      params,
    );
    const found = await rows<TokenRow>(
      this.tx.manager,
      `SELECT ${COLUMNS} FROM operator_tokens t WHERE ${where} ORDER BY t.created_at DESC, t.id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    );
    return { rows: found, total };
  }

  /** The token, when it is within `powers`. */
  get(id: string, powers: Powers | null): Promise<TokenRow | undefined> {
    const scope = withinPowers(powers, 2);
    return firstRow<TokenRow>(this.tx.manager, `SELECT ${COLUMNS} FROM operator_tokens t WHERE t.id = $1 AND ${scope.sql}`, [
      id,
      ...scope.params,
    ]);
  }

  async exists(id: string): Promise<boolean> {
    return (await rows(this.tx.manager, `SELECT 1 FROM operator_tokens WHERE id = $1`, [id])).length > 0;
  }

  /**
   * The tokens locked in one statement, in id order: two tokens revoking each other at once then
   * queue instead of deadlocking.
   */
  lockForRevocation(ids: string[]): Promise<LockedRow[]> {
    return rows<LockedRow>(
      this.tx.manager,
      `SELECT t.id, t.scopes, t.instance_refs, t.expires_at, t.revoked_at, (t.expires_at IS NOT NULL AND t.expires_at <= now()) AS expired
         FROM operator_tokens t WHERE t.id = ANY($1::uuid[]) ORDER BY t.id FOR UPDATE`,
      [ids],
    );
  }

  async revoke(id: string): Promise<TokenRow> {
    const row = await firstRow<TokenRow>(
      this.tx.manager,
      `UPDATE operator_tokens AS t SET revoked_at = now() WHERE t.id = $1 RETURNING ${COLUMNS}`,
      [id],
    );
    return row!;
  }
}
