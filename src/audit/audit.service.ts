import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../domain/actor';
import { redactText, redactValue } from '../common/logging/redact';
import { Page } from '../common/http/page';
import { AppException } from '../common/errors/app.exception';
import { AuditEventDto } from './audit-event.dto';
import { AuditRepository, AuditRow } from './audit.repository';

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
  constructor(private readonly events: AuditRepository) {}

  /**
   * Records one event in the running transaction (Transactions), so it commits or rolls back with
   * the change. An operator token acting is checked again here, inside that transaction, with its row
   * locked FOR SHARE: a change whose token was revoked (or expired) before this point answers
   * INVALID_TOKEN and rolls back, and a revocation racing it waits for it to commit, so nothing an
   * operator token does lands after its revocation. Every change records an event, so this is the
   * one place that needs the check. `manager`: only for callers that still lend their transaction.
   */
  async record(entry: AuditEntry, actor: Actor, manager?: EntityManager): Promise<void> {
    const row: AuditRow = {
      actorType: actor.type,
      actorId: actor.id,
      action: entry.action,
      targetType: entry.target?.type ?? null,
      targetId: entry.target?.id ?? null,
      instanceId: entry.instanceId ?? null,
      developerId: entry.developerId ?? null,
      ip: ipOf(actor),
      requestId: requestIdOf(actor),
      details: JSON.stringify(sanitize(redactValue(entry.details ?? {}))),
      actorName: actorNameOf(actor),
    };
    if (actor.type !== 'operator') return this.events.insert(row, manager);
    if (!(await this.events.insertAsLiveOperator(row, manager))) throw new AppException('INVALID_TOKEN');
  }

  /**
   * Records many events of one actor in one statement (a break-glass revocation, a batch of leaked
   * keys), in the order given, inside the running transaction (or the `manager` a caller lends).
   */
  async recordMany(entries: AuditEntry[], actor: Actor, manager?: EntityManager): Promise<void> {
    if (entries.length === 0) return;
    // The same re-check as record(): an operator token revoked while this change ran lands nothing.
    if (actor.type === 'operator' && !(await this.events.holdLiveOperatorToken(actor.id, manager))) throw new AppException('INVALID_TOKEN');
    await this.events.insertMany(
      { actorType: actor.type, actorId: actor.id, ip: ipOf(actor), requestId: requestIdOf(actor), actorName: actorNameOf(actor) },
      entries.map((e) => ({
        action: e.action,
        target_type: e.target?.type ?? null,
        target_id: e.target?.id ?? null,
        instance_id: e.instanceId ?? null,
        developer_id: e.developerId ?? null,
        details: sanitize(redactValue(e.details ?? {})),
      })),
      manager,
    );
  }

  /** An instance's or a developer's trail; `tenant` is the owner reading its own, without operators' addresses. */
  listForInstance(instanceId: string, limit: number, offset: number, view: AuditView = 'operator'): Promise<Page<AuditEventDto>> {
    return this.ownedPage({ instanceId }, limit, offset, view);
  }

  listForDeveloper(developerId: string, limit: number, offset: number, view: AuditView = 'operator'): Promise<Page<AuditEventDto>> {
    return this.ownedPage({ developerId }, limit, offset, view);
  }

  /** An operator token's trail: everything it did and what was done to it (creation, revocation), newest first. */
  async listForOperatorToken(tokenId: string, limit: number, offset: number): Promise<Page<AuditEventDto>> {
    const [rows, total] = await this.events.ofOperatorToken(tokenId, limit, offset);
    return new Page(rows.map(AuditEventDto.from), total, limit, offset);
  }

  /** Events that belong to no tenant (failed attempts, system reports), for the operator (SPEC §8). */
  async listUnowned(filter: { action?: string; since?: Date }, limit: number, offset: number): Promise<Page<AuditEventDto>> {
    const [rows, total] = await this.events.unowned(filter, limit, offset);
    return new Page(rows.map(AuditEventDto.from), total, limit, offset);
  }

  private async ownedPage(owner: { instanceId: string } | { developerId: string }, limit: number, offset: number, view: AuditView) {
    const [rows, total] = await this.events.owned(owner, limit, offset);
    return new Page(rows.map(view === 'tenant' ? AuditEventDto.forTenant : AuditEventDto.from), total, limit, offset);
  }
}

const ipOf = (actor: Actor) => (actor.ip ? actor.ip.slice(0, 64) : null);
// A caller-chosen request id could carry a configured secret too.
const requestIdOf = (actor: Actor) => (actor.requestId === null ? null : redactText(actor.requestId));
const actorNameOf = (actor: Actor) => (actor.type === 'operator' ? (actor.name ?? null) : null);
