import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor } from '../auth/principal';
import { redactValue } from '../common/logging/redact';
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

/** Flattens CR/LF and other control characters so no stored value can forge another line. */
function sanitize(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/[\u0000-\u001f\u007f]/g, ' ');
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
      actor.requestId,
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
