import { Injectable } from '@nestjs/common';
import { execute, firstRow } from '../database/sql';
import { Transactions } from '../database/transactions';

/** A live record as a waiting request reads it: a done one holds the sealed answer. */
export type IdempotencyRecord =
  | { fingerprint: Buffer; state: 'in_progress'; statusCode: null; sealed: null }
  | { fingerprint: Buffer; state: 'done'; statusCode: number; sealed: Buffer };

export const IDEMPOTENCY_SQL = {
  /**
   * A new record, or taking over one that expired or whose owner died with the same request; the
   * primary key decides between concurrent claims. Answers the claim that holds the record now.
   */
  claim: `INSERT INTO idempotency_records AS r (id, fingerprint, state, claim, expires_at)
VALUES ($1, $2, 'in_progress', $3, now() + $4::int * interval '1 hour')
ON CONFLICT (id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, state = 'in_progress', claim = EXCLUDED.claim,
       claimed_at = now(), status_code = NULL, sealed = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
 WHERE r.expires_at <= now()
    OR (r.state = 'in_progress' AND r.fingerprint = EXCLUDED.fingerprint AND r.claimed_at <= now() - $5::int * interval '1 millisecond')
RETURNING claim`,
  live: `SELECT fingerprint, state, status_code AS "statusCode", sealed FROM idempotency_records WHERE id = $1 AND expires_at > now()`,
  /** Compare-and-set on the claim: an owner that lost its claim to a takeover stores nothing. */
  complete: `UPDATE idempotency_records SET state = 'done', status_code = $3, sealed = $4 WHERE id = $1 AND claim = $2`,
  release: `DELETE FROM idempotency_records WHERE id = $1 AND claim = $2 AND state = 'in_progress'`,
  prune: `DELETE FROM idempotency_records WHERE expires_at <= now()`,
} as const;

/** The idempotency_records table; each statement stands alone (autocommit), outside any change's transaction. */
@Injectable()
export class IdempotencyRepository {
  constructor(private readonly tx: Transactions) {}

  /** True when `token` now holds the record (new, or taken over). */
  async claim(id: Buffer, fingerprint: Buffer, token: string, retentionHours: number, staleClaimMs: number): Promise<boolean> {
    const row = await firstRow<{ claim: string }>(this.tx.manager, IDEMPOTENCY_SQL.claim, [
      id,
      fingerprint,
      token,
      retentionHours,
      staleClaimMs,
    ]);
    return row?.claim === token;
  }

  live(id: Buffer): Promise<IdempotencyRecord | undefined> {
    return firstRow<IdempotencyRecord>(this.tx.manager, IDEMPOTENCY_SQL.live, [id]);
  }

  async complete(id: Buffer, token: string, statusCode: number, sealed: Buffer): Promise<void> {
    await execute(this.tx.manager, IDEMPOTENCY_SQL.complete, [id, token, statusCode, sealed]);
  }

  async release(id: Buffer, token: string): Promise<void> {
    await execute(this.tx.manager, IDEMPOTENCY_SQL.release, [id, token]);
  }

  /** Answers how many records went. */
  async prune(): Promise<number> {
    return (await execute(this.tx.manager, IDEMPOTENCY_SQL.prune)).affected;
  }
}
