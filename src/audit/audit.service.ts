import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import type { Actor } from '../domain/actor';
import { redactText, redactValue } from '../common/logging/redact';
import { Page } from '../common/http/page';
import { AppException } from '../common/errors/app.exception';
import { AuditEvent } from './audit-event.entity';
import { AuditEventDto } from './audit-event.dto';

export interface AuditEntry {
  action: string;
  target?: { type: string; id: string };
  instanceId?: string | null;
  developerId?: string | null;
  details?: Record<string, unknown>;
}

/** Longest string stored in an event's details: a path or value sent by an unauthenticated caller is cut here. */
export const MAX_STORED_TEXT = 256;

function truncate(text: string): string {
  if (text.length <= MAX_STORED_TEXT) return text;
  const points = [...text];
  return points.length <= MAX_STORED_TEXT ? text : `${points.slice(0, MAX_STORED_TEXT - 1).join('')}…`;
}

/** Flattens CR/LF and other control characters so no stored value can forge another line; bounds every string. */
function sanitize(value: unknown): unknown {
  if (typeof value === 'string') return truncate(value.replace(/[\u0000-\u001f\u007f]/g, ' '));
  if (Array.isArray(value)) return value.map(sanitize);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sanitize(v)]));
  return value;
}

/** Who reads a trail: an operator sees everything; a tenant its own events without operators' addresses. */
export type AuditView = 'operator' | 'tenant';

@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Records one event; pass the transaction's manager so the event commits or rolls back with the
   * change. An operator token acting is checked again here, inside that transaction, with its row
   * locked FOR SHARE: a change whose token was revoked (or expired) before this point answers
   * INVALID_TOKEN and rolls back, and a revocation racing it waits for it to commit, so nothing an
   * operator token does lands after its revocation. Every change records an event, so this is the
   * one place that needs the check.
   */
  async record(entry: AuditEntry, actor: Actor, manager: EntityManager = this.dataSource.manager): Promise<void> {
    const values = [
      actor.type,
      actor.id,
      entry.action,
      entry.target?.type ?? null,
      entry.target?.id ?? null,
      entry.instanceId ?? null,
      entry.developerId ?? null,
      actor.ip ? actor.ip.slice(0, 64) : null,
      // A caller-chosen request id could carry a configured secret too.
      actor.requestId === null ? null : redactText(actor.requestId),
      JSON.stringify(sanitize(redactValue(entry.details ?? {}))),
      actor.type === 'operator' ? (actor.name ?? null) : null,
    ];
    const columns = 'actor_type, actor_id, action, target_type, target_id, instance_id, developer_id, ip, request_id, details, actor_name';
    if (actor.type !== 'operator') {
      await manager.query(`INSERT INTO audit_events (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11)`, values);
      return;
    }
    const inserted: unknown[] = await manager.query(
      `INSERT INTO audit_events (${columns})
       SELECT $1, $2::text, $3, $4, $5, $6::uuid, $7::uuid, $8, $9, $10::jsonb, $11
         FROM operator_tokens t
        WHERE t.id = $2::text::uuid AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
          FOR SHARE OF t
       RETURNING id`,
      values,
    );
    if (inserted.length === 0) throw new AppException('INVALID_TOKEN');
  }

  /** An instance's or a developer's trail; `tenant` is the owner reading its own, without operators' addresses. */
  listForInstance(instanceId: string, limit: number, offset: number, view: AuditView = 'operator'): Promise<Page<AuditEventDto>> {
    return this.list({ instanceId }, limit, offset, view);
  }

  listForDeveloper(developerId: string, limit: number, offset: number, view: AuditView = 'operator'): Promise<Page<AuditEventDto>> {
    return this.list({ developerId }, limit, offset, view);
  }

  /** An operator token's trail: everything it did and what was done to it (creation, revocation), newest first. */
  async listForOperatorToken(tokenId: string, limit: number, offset: number): Promise<Page<AuditEventDto>> {
    const [rows, total] = await this.dataSource
      .getRepository(AuditEvent)
      .createQueryBuilder('e')
      .where(`(e.actor_type = 'operator' AND e.actor_id = :tokenId) OR (e.target_type = 'operator_token' AND e.target_id = :tokenId)`, { tokenId })
      .orderBy('e.at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .take(limit)
      .skip(offset)
      .getManyAndCount();
    return new Page(rows.map(AuditEventDto.from), total, limit, offset);
  }

  /**
   * Records many events of one actor in one statement (a break-glass revocation, a batch of leaked
   * keys), in the order given, inside the caller's transaction.
   */
  async recordMany(entries: AuditEntry[], actor: Actor, manager: EntityManager): Promise<void> {
    if (entries.length === 0) return;
    const rows = entries.map((e) => ({
      action: e.action,
      target_type: e.target?.type ?? null,
      target_id: e.target?.id ?? null,
      instance_id: e.instanceId ?? null,
      developer_id: e.developerId ?? null,
      details: sanitize(redactValue(e.details ?? {})),
    }));
    if (actor.type === 'operator') {
      // The same re-check as record(): an operator token revoked while this change ran lands nothing.
      const live: unknown[] = await manager.query(
        `SELECT 1 FROM operator_tokens t WHERE t.id = $1::uuid AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) FOR SHARE OF t`,
        [actor.id],
      );
      if (live.length === 0) throw new AppException('INVALID_TOKEN');
    }
    await manager.query(
      `INSERT INTO audit_events (actor_type, actor_id, action, target_type, target_id, instance_id, developer_id, ip, request_id, details, actor_name)
       SELECT $1, $2, e.action, e.target_type, e.target_id, e.instance_id, e.developer_id, $3, $4, e.details, $6
         FROM ROWS FROM (jsonb_to_recordset($5::jsonb)
              AS (action text, target_type text, target_id text, instance_id uuid, developer_id uuid, details jsonb))
              WITH ORDINALITY AS e(action, target_type, target_id, instance_id, developer_id, details, n)
        ORDER BY e.n`,
      [actor.type, actor.id, actor.ip ? actor.ip.slice(0, 64) : null, actor.requestId === null ? null : redactText(actor.requestId), JSON.stringify(rows), actor.type === 'operator' ? (actor.name ?? null) : null],
    );
  }

  /** Events that belong to no tenant (failed attempts, system reports), for the operator (SPEC §8). */
  async listUnowned(filter: { action?: string; since?: Date }, limit: number, offset: number): Promise<Page<AuditEventDto>> {
    const where = ['instance_id IS NULL', 'developer_id IS NULL'];
    const params: unknown[] = [];
    if (filter.action !== undefined) where.push(`action = $${params.push(filter.action)}`);
    if (filter.since !== undefined) where.push(`at >= $${params.push(filter.since)}`);
    const clause = where.join(' AND ');
    const [{ total }] = await this.dataSource.query(`SELECT count(*)::int AS total FROM audit_events WHERE ${clause}`, params);
    const ids: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM audit_events WHERE ${clause} ORDER BY at DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    );
    const rows = ids.length ? await this.dataSource.getRepository(AuditEvent).find({ where: { id: In(ids.map((r) => r.id)) } }) : [];
    const byId = new Map(rows.map((r) => [r.id, r]));
    return new Page(ids.map((r) => AuditEventDto.from(byId.get(r.id)!)), total, limit, offset);
  }

  private async list(where: { instanceId: string } | { developerId: string }, limit: number, offset: number, view: AuditView) {
    const [rows, total] = await this.dataSource.getRepository(AuditEvent).findAndCount({
      where,
      order: { at: 'DESC', id: 'DESC' },
      take: limit,
      skip: offset,
    });
    return new Page(rows.map(view === 'tenant' ? AuditEventDto.forTenant : AuditEventDto.from), total, limit, offset);
  }
}
