import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import type { AuditEventDto } from '../../audit/audit-event.dto';
import type { Actor } from '../../domain/actor';
import { AppException } from '../../common/errors/app.exception';
import { Page } from '../../common/http/page';
import { escapeLike } from '../../common/http/text';
import { developerTag, KeyInvalidationService, keyTag } from '../../key-cache/key-invalidation.service';
import { MicaKeyDto } from '../accounts/mica-account.dto';
import { MicaKey } from '../accounts/mica-key.entity';
import { WebhookOutbox } from '../../webhooks/webhook.outbox';
import { actorFacts } from '../../webhooks/webhook-payloads';
import { AccountStatus, ListDevelopersQueryDto, OperatorDeveloperDetailDto, OperatorDeveloperDto } from './mica-operators.dto';

interface DeveloperRow {
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LISTED_KEYS = 100;
const notFound = () => new AppException('NOT_FOUND', 'Account not found.');
const iso = (d: Date | null) => (d ? d.toISOString() : null);

const DEVELOPER_SELECT = `
  SELECT d.id, d.email, d.name, d.status, d.created_at, d.token_rotated_at, d.suspended_at, d.suspension_reason, d.erased_at,
         (SELECT count(*)::int FROM mica_keys k WHERE k.developer_id = d.id AND k.revoked_at IS NULL) AS active_keys,
         (SELECT COALESCE(sum(k.request_count), 0)::text FROM mica_keys k WHERE k.developer_id = d.id) AS request_count,
         (SELECT max(k.last_used_at) FROM mica_keys k WHERE k.developer_id = d.id) AS last_used_at
    FROM mica_developers d`;

function toDto(r: DeveloperRow): OperatorDeveloperDto {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    status: r.status,
    createdAt: r.created_at.toISOString(),
    tokenRotatedAt: iso(r.token_rotated_at),
    suspendedAt: iso(r.suspended_at),
    suspensionReason: r.suspension_reason,
    erasedAt: iso(r.erased_at),
    activeKeys: r.active_keys,
    requestCount: Number(r.request_count),
    lastUsedAt: iso(r.last_used_at),
  };
}

/**
 * Operator controls of the free MiCA signup (SPEC §16). Every change runs in one transaction that
 * locks the developer row, the same lock every key and token change of the account takes, so a
 * suspension and a key rotation of that account are decided one after the other. The account's
 * cached key checks leave every replica's cache on commit (tag `developer:<id>`).
 */
@Injectable()
export class MicaOperatorsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  async list(query: ListDevelopersQueryDto): Promise<Page<OperatorDeveloperDto>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.status) {
      params.push(query.status);
      where.push(`d.status = $${params.length}`);
    }
    if (query.search) {
      const search = query.search.trim();
      params.push(`%${escapeLike(search.toLowerCase())}%`);
      const like = `$${params.length}`;
      const clauses = [`lower(d.email) LIKE ${like} ESCAPE '\\'`, `lower(d.name) LIKE ${like} ESCAPE '\\'`];
      if (UUID.test(search)) {
        params.push(search.toLowerCase());
        clauses.push(`d.id = $${params.length}::uuid`);
      }
      where.push(`(${clauses.join(' OR ')})`);
    }
    const filter = where.length ? ` WHERE ${where.join(' AND ')}` : '';
    const [{ total }] = await this.dataSource.query(`SELECT count(*)::int AS total FROM mica_developers d${filter}`, params);
    const rows: DeveloperRow[] = await this.dataSource.query(
      `${DEVELOPER_SELECT}${filter} ORDER BY d.created_at DESC, d.id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, query.limit, query.offset],
    );
    return new Page(rows.map(toDto), total, query.limit, query.offset);
  }

  async get(id: string): Promise<OperatorDeveloperDetailDto> {
    const developer = await this.find(this.dataSource.manager, id, false);
    const keys = await this.dataSource.getRepository(MicaKey).find({ where: { developerId: id }, order: { createdAt: 'DESC', id: 'DESC' }, take: LISTED_KEYS });
    return { developer: toDto(developer), keys: keys.map(MicaKeyDto.from) };
  }

  async events(id: string, limit: number, offset: number): Promise<Page<AuditEventDto>> {
    await this.find(this.dataSource.manager, id, false);
    return this.audit.listForDeveloper(id, limit, offset);
  }

  /** Every key and the management token fail from the next request; the mailbox stays taken. Suspending a suspended account changes nothing. */
  suspend(id: string, reason: string, actor: Actor): Promise<OperatorDeveloperDto> {
    return this.change(id, async (manager, current, invalidate) => {
      if (current.status === 'ERASED') throw new AppException('ACCOUNT_ERASED');
      if (current.status === 'SUSPENDED') return current;
      await manager.query(`UPDATE mica_developers SET status = 'SUSPENDED', suspended_at = now(), suspension_reason = $2 WHERE id = $1`, [id, reason]);
      await this.audit.record({ action: 'mica.developer.suspended', target: { type: 'mica_developer', id }, developerId: id, details: { reason } }, actor, manager);
      invalidate(developerTag(id));
      return this.find(manager, id, false);
    });
  }

  /** The keys that were valid before the suspension are valid again (none was revoked by it). */
  restore(id: string, actor: Actor): Promise<OperatorDeveloperDto> {
    return this.change(id, async (manager, current, invalidate) => {
      if (current.status === 'ERASED') throw new AppException('ACCOUNT_ERASED');
      if (current.status === 'ACTIVE') return current;
      await manager.query(`UPDATE mica_developers SET status = 'ACTIVE', suspended_at = NULL, suspension_reason = NULL WHERE id = $1`, [id]);
      await this.audit.record({ action: 'mica.developer.restored', target: { type: 'mica_developer', id }, developerId: id }, actor, manager);
      // Drops the "suspended" answers cached for the account's keys.
      invalidate(developerTag(id));
      return this.find(manager, id, false);
    });
  }

  /**
   * Erasure: every key revoked, name and email removed (which frees the mailbox: the unique indexes
   * on lower(email) and email_canonical ignore NULL), the management token replaced by a digest nobody holds a token
   * for, and the account's audit events kept but anonymised (name, email and client addresses
   * removed). The record stays, anonymous, so the trail still has something to point at.
   */
  erase(id: string, actor: Actor): Promise<OperatorDeveloperDto> {
    return this.change(id, async (manager, current, invalidate) => {
      if (current.status === 'ERASED') throw new AppException('ACCOUNT_ERASED');
      const [revoked]: [Array<{ id: string; name: string; key_prefix: string; key_hint: string }>, number] = await manager.query(
        `UPDATE mica_keys SET revoked_at = now() WHERE developer_id = $1 AND revoked_at IS NULL RETURNING id, name, key_prefix, key_hint`,
        [id],
      );
      await manager.query(
        `UPDATE mica_developers SET status = 'ERASED', email = NULL, email_canonical = NULL, name = NULL, erased_at = now(), suspended_at = NULL, suspension_reason = NULL,
                management_token_digest = $2
          WHERE id = $1`,
        [id, randomBytes(32)],
      );
      await manager.query(`UPDATE audit_events SET details = details - 'email' - 'name', ip = NULL WHERE developer_id = $1`, [id]);
      await this.audit.recordMany(
        revoked.map((k) => ({ action: 'mica.key.revoked', target: { type: 'mica_key', id: k.id }, developerId: id, details: { keyHint: k.key_hint, reason: 'account erased' } })),
        actor,
        manager,
      );
      await WebhookOutbox.enqueueMany(
        manager,
        revoked.map((k) => ({
          owner: { developerId: id },
          type: 'mica.key.revoked' as const,
          data: { key: { id: k.id, name: k.name, keyPrefix: k.key_prefix, keyHint: k.key_hint, isActive: false }, reason: 'account erased', actor: actorFacts(actor) },
        })),
      );
      await this.audit.record({ action: 'mica.developer.erased', target: { type: 'mica_developer', id }, developerId: id, details: { keysRevoked: revoked.length } }, actor, manager);
      invalidate(developerTag(id), ...revoked.map((k) => keyTag(k.id)));
      return this.find(manager, id, false);
    });
  }

  private async change(
    id: string,
    work: (manager: EntityManager, current: DeveloperRow, invalidate: (...tags: string[]) => void) => Promise<DeveloperRow>,
  ): Promise<OperatorDeveloperDto> {
    return toDto(await this.invalidation.change(async (manager, invalidate) => work(manager, await this.find(manager, id, true), invalidate)));
  }

  private async find(manager: EntityManager, id: string, lock: boolean): Promise<DeveloperRow> {
    if (lock) {
      const locked = await manager.query(`SELECT id FROM mica_developers WHERE id = $1 FOR UPDATE`, [id]);
      if (locked.length === 0) throw notFound();
    }
    const [row] = await manager.query(`${DEVELOPER_SELECT} WHERE d.id = $1`, [id]);
    if (!row) throw notFound();
    return row;
  }
}
