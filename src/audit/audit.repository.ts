import { Injectable } from '@nestjs/common';
import { EntityManager, FindOptionsWhere, IsNull, MoreThanOrEqual } from 'typeorm';
import { execute, rows } from '../database/sql';
import { Transactions } from '../database/transactions';
import { AuditEvent } from './audit-event.entity';

/** One event as stored; `details` is the JSON text of the sanitized, redacted details. */
export interface AuditRow {
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  instanceId: string | null;
  developerId: string | null;
  ip: string | null;
  requestId: string | null;
  details: string;
  actorName: string | null;
}

/** The actor's part of a batch of events (the same for every row). */
export interface AuditBatchActor {
  actorType: string;
  actorId: string | null;
  ip: string | null;
  requestId: string | null;
  actorName: string | null;
}

/** One event of a batch, as jsonb_to_recordset reads it. */
export interface AuditBatchRow {
  action: string;
  target_type: string | null;
  target_id: string | null;
  instance_id: string | null;
  developer_id: string | null;
  details: unknown;
}

export const AUDIT_SQL = {
  insert: `INSERT INTO audit_events (actor_type, actor_id, action, target_type, target_id, instance_id, developer_id, ip, request_id, details, actor_name)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)`,

  /** Lands only while the acting operator token is live, its row held FOR SHARE until commit (a racing revocation waits). */
  insertAsLiveOperator: `INSERT INTO audit_events (actor_type, actor_id, action, target_type, target_id, instance_id, developer_id, ip, request_id, details, actor_name)
SELECT $1, $2::text, $3, $4, $5, $6::uuid, $7::uuid, $8, $9, $10::jsonb, $11
  FROM operator_tokens t
 WHERE t.id = $2::text::uuid AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
   FOR SHARE OF t
RETURNING id`,

  liveOperatorToken: `SELECT 1 FROM operator_tokens t WHERE t.id = $1::uuid AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) FOR SHARE OF t`,

  insertMany: `INSERT INTO audit_events (actor_type, actor_id, action, target_type, target_id, instance_id, developer_id, ip, request_id, details, actor_name)
SELECT $1, $2, e.action, e.target_type, e.target_id, e.instance_id, e.developer_id, $3, $4, e.details, $6
  FROM ROWS FROM (jsonb_to_recordset($5::jsonb)
       AS (action text, target_type text, target_id text, instance_id uuid, developer_id uuid, details jsonb))
       WITH ORDINALITY AS e(action, target_type, target_id, instance_id, developer_id, details, n)
 ORDER BY e.n`,

  insertSuppressed: `INSERT INTO audit_events (actor_type, action, ip, details)
SELECT 'anonymous', $1, left(a, 64), d::jsonb FROM unnest($2::text[], $3::text[]) AS v(a, d)`,

  pruneUnowned: `DELETE FROM audit_events
 WHERE action = ANY($1::text[]) AND instance_id IS NULL AND developer_id IS NULL AND at < now() - $2::int * interval '1 day'`,
} as const;

const NEWEST_FIRST = { at: 'DESC', id: 'DESC' } as const;

/**
 * The audit_events table. Writes join the running transaction (Transactions), so an event commits or
 * rolls back with the change it records; the trails are ORM reads of AuditEvent.
 */
@Injectable()
export class AuditRepository {
  constructor(private readonly tx: Transactions) {}

  /**
   * `manager`: a transaction a caller still lends explicitly (services not yet on Transactions);
   * without it, the running transaction's, or the pool's outside one.
   */
  async insert(row: AuditRow, manager: EntityManager = this.tx.manager): Promise<void> {
    await execute(manager, AUDIT_SQL.insert, paramsOf(row));
  }

  /** False (nothing written) when the operator token of `row.actorId` is revoked or expired. */
  async insertAsLiveOperator(row: AuditRow, manager: EntityManager = this.tx.manager): Promise<boolean> {
    return (await rows(manager, AUDIT_SQL.insertAsLiveOperator, paramsOf(row))).length > 0;
  }

  /** Whether the operator token is live, its row held FOR SHARE until the transaction ends. */
  async holdLiveOperatorToken(tokenId: string | null, manager: EntityManager = this.tx.manager): Promise<boolean> {
    return (await rows(manager, AUDIT_SQL.liveOperatorToken, [tokenId])).length > 0;
  }

  /** Many events of one actor in one statement, in the order given. */
  async insertMany(actor: AuditBatchActor, events: AuditBatchRow[], manager: EntityManager = this.tx.manager): Promise<void> {
    await execute(manager, AUDIT_SQL.insertMany, [
      actor.actorType,
      actor.actorId,
      actor.ip,
      actor.requestId,
      JSON.stringify(events),
      actor.actorName,
    ]);
  }

  /** One `action` row per address, `details` given as JSON text, in one statement. */
  async insertSuppressed(action: string, addresses: string[], details: string[]): Promise<void> {
    await execute(this.tx.manager, AUDIT_SQL.insertSuppressed, [action, addresses, details]);
  }

  /** Deletes events of `actions` that belong to no tenant and are older than `days`; answers how many. */
  async pruneUnowned(actions: readonly string[], days: number): Promise<number> {
    return (await execute(this.tx.manager, AUDIT_SQL.pruneUnowned, [actions, days])).affected;
  }

  /** An owner's trail, newest first, with the total. */
  owned(owner: { instanceId: string } | { developerId: string }, limit: number, offset: number): Promise<[AuditEvent[], number]> {
    return this.page(owner, limit, offset);
  }

  /** Events that belong to no tenant, newest first, with the total. */
  unowned(filter: { action?: string; since?: Date }, limit: number, offset: number): Promise<[AuditEvent[], number]> {
    return this.page(
      {
        instanceId: IsNull(),
        developerId: IsNull(),
        ...(filter.action !== undefined ? { action: filter.action } : {}),
        ...(filter.since !== undefined ? { at: MoreThanOrEqual(filter.since) } : {}),
      },
      limit,
      offset,
    );
  }

  /** What an operator token did and what was done to it, newest first, with the total. */
  ofOperatorToken(tokenId: string, limit: number, offset: number): Promise<[AuditEvent[], number]> {
    return this.page(
      [
        { actorType: 'operator', actorId: tokenId },
        { targetType: 'operator_token', targetId: tokenId },
      ],
      limit,
      offset,
    );
  }

  private page(
    where: FindOptionsWhere<AuditEvent> | FindOptionsWhere<AuditEvent>[],
    limit: number,
    offset: number,
  ): Promise<[AuditEvent[], number]> {
    return this.tx.manager.findAndCount(AuditEvent, { where, order: NEWEST_FIRST, take: limit, skip: offset });
  }
}

function paramsOf(r: AuditRow): unknown[] {
  return [
    r.actorType,
    r.actorId,
    r.action,
    r.targetType,
    r.targetId,
    r.instanceId,
    r.developerId,
    r.ip,
    r.requestId,
    r.details,
    r.actorName,
  ];
}
