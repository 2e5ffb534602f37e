import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEventDto } from '../audit/audit-event.dto';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../domain/actor';
import { AppException } from '../common/errors/app.exception';
import { randomAlphanumeric } from '../common/crypto/secrets';
import { Page } from '../common/http/page';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { IssuedKeyDto } from '../instance-keys/instance-key.dto';
import { InstanceKeysService } from '../instance-keys/instance-keys.service';
import { escapeLike } from '../common/http/text';
import { instanceTag, KeyInvalidationService } from '../key-cache/key-invalidation.service';
import { sqlStateOf, UNIQUE_VIOLATION } from '../database/database-errors';
import { Instance } from './instance.entity';
import { CreateInstanceDto, InstanceDto, ListInstancesQueryDto, UpdateInstanceDto } from './instance.dto';
import { WebhookOutbox } from '../webhooks/webhook.outbox';
import { actorFacts } from '../webhooks/webhook-payloads';

const REF_ATTEMPTS = 5;

@Injectable()
export class InstancesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly keys: InstanceKeysService,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  /** A new instance and its first key, `Default`, both or neither. */
  async createWithFirstKey(dto: CreateInstanceDto, actor: Actor): Promise<{ instance: InstanceDto; key: IssuedKeyDto }> {
    const { instance, extra } = await this.create(dto, actor, (manager, created) => this.keys.issueFirstKey(manager, created, actor));
    return { instance, key: extra! };
  }

  /**
   * Creates an instance under a fresh random ref. `withinTransaction` runs in the same transaction,
   * so whatever it adds (the first key) exists if and only if the instance does. A ref collision
   * (62^8 space, so rare) rolls back and retries with a new ref.
   */
  async create<T>(
    dto: CreateInstanceDto,
    actor: Actor,
    withinTransaction?: (manager: EntityManager, instance: Instance) => Promise<T>,
  ): Promise<{ instance: InstanceDto; extra: T | undefined }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction(async (manager) => {
          const [row] = await manager.query(
            `INSERT INTO instances (ref, name, services) VALUES ($1, $2, $3) RETURNING id`,
            [randomAlphanumeric(8), dto.name, dto.services ?? []],
          );
          const instance = await manager.findOneByOrFail(Instance, { id: row.id });
          await this.audit.record(
            { action: 'instance.created', target: { type: 'instance', id: instance.ref }, instanceId: instance.id, details: { name: instance.name, services: instance.services } },
            actor,
            manager,
          );
          const extra = withinTransaction ? await withinTransaction(manager, instance) : undefined;
          return { instance: InstanceDto.from(instance), extra };
        });
      } catch (e) {
        const refCollision = sqlStateOf(e) === UNIQUE_VIOLATION && String((e as { driverError?: { constraint?: string } }).driverError?.constraint) === 'instances_ref_key';
        if (!refCollision || attempt >= REF_ATTEMPTS) throw e;
      }
    }
  }

  /** `visibleRefs`: the only instances the caller may see (an operator token restricted to instances); null for all. */
  async list(query: ListInstancesQueryDto, visibleRefs: string[] | null = null): Promise<Page<InstanceDto>> {
    const qb = this.dataSource.getRepository(Instance).createQueryBuilder('i');
    if (visibleRefs) qb.andWhere('i.ref = ANY(:visibleRefs)', { visibleRefs });
    if (query.status) qb.andWhere('i.status = :status', { status: query.status });
    if (query.search) qb.andWhere(`lower(i.name) LIKE :pattern ESCAPE '\\'`, { pattern: `%${escapeLike(query.search.toLowerCase())}%` });
    const [rows, total] = await qb.orderBy('i.created_at', 'DESC').addOrderBy('i.id', 'DESC').take(query.limit).skip(query.offset).getManyAndCount();
    return new Page(rows.map(InstanceDto.from), total, query.limit, query.offset);
  }

  async get(ref: string): Promise<InstanceDto> {
    return InstanceDto.from(await this.findByRef(ref));
  }

  /** The instance's audit trail, newest first. */
  async events(ref: string, query: PaginationQueryDto): Promise<Page<AuditEventDto>> {
    const instance = await this.findByRef(ref);
    return this.audit.listForInstance(instance.id, query.limit, query.offset, 'operator');
  }

  /** The instance row, or NOT_FOUND. Exported for the modules that hang off an instance. */
  async findByRef(ref: string, manager: EntityManager = this.dataSource.manager): Promise<Instance> {
    const instance = await manager.findOneBy(Instance, { ref });
    if (!instance) throw new AppException('NOT_FOUND', 'Instance not found.');
    return instance;
  }

  async update(ref: string, dto: UpdateInstanceDto, actor: Actor): Promise<InstanceDto> {
    if (dto.name === undefined && dto.services === undefined) {
      throw new AppException('VALIDATION_ERROR', 'Nothing to update: send name and/or services.', { body: ['must contain name or services'] });
    }
    return this.change(ref, actor, 'instance.updated', (i) => {
      const changes: Record<string, unknown> = {};
      if (dto.name !== undefined && dto.name !== i.name) changes.name = { from: i.name, to: dto.name };
      if (dto.services !== undefined) changes.services = { from: i.services, to: dto.services };
      return { set: { name: dto.name ?? i.name, services: dto.services ?? i.services }, details: changes };
    });
  }

  /** Archiving an archived instance (or restoring an active one) is a no-op that answers 200. */
  archive(ref: string, actor: Actor): Promise<InstanceDto> {
    return this.change(ref, actor, 'instance.archived', (i) => (i.status === 'ARCHIVED' ? null : { set: { status: 'ARCHIVED', archivedAt: 'now' } }));
  }

  restore(ref: string, actor: Actor): Promise<InstanceDto> {
    return this.change(ref, actor, 'instance.restored', (i) => (i.status === 'ACTIVE' ? null : { set: { status: 'ACTIVE', archivedAt: null } }));
  }

  /**
   * Locks the row, applies `decide`'s change (null: nothing to do) and records it, in one
   * transaction; every replica drops its cached checks of the instance's keys once it commits.
   */
  private async change(
    ref: string,
    actor: Actor,
    action: string,
    decide: (i: Instance) => { set: Partial<Record<'name' | 'services' | 'status' | 'archivedAt', unknown>>; details?: Record<string, unknown> } | null,
  ): Promise<InstanceDto> {
    const updated = await this.invalidation.change(async (manager, invalidate) => {
      const instance = await manager.findOne(Instance, { where: { ref }, lock: { mode: 'pessimistic_write' } });
      if (!instance) throw new AppException('NOT_FOUND', 'Instance not found.');
      const decision = decide(instance);
      if (!decision) return instance;
      // Status and services are part of every cached check of the instance's keys.
      invalidate(instanceTag(instance.id));
      const set = decision.set;
      await manager.query(
        `UPDATE instances SET
           name = COALESCE($2, name),
           services = COALESCE($3::text[], services),
           status = COALESCE($4, status),
           archived_at = CASE WHEN $5::text = 'keep' THEN archived_at WHEN $5::text = 'now' THEN now() ELSE NULL END,
           updated_at = now()
         WHERE id = $1`,
        [instance.id, set.name ?? null, set.services ?? null, set.status ?? null, 'archivedAt' in set ? (set.archivedAt === 'now' ? 'now' : 'null') : 'keep'],
      );
      await this.audit.record({ action, target: { type: 'instance', id: instance.ref }, instanceId: instance.id, details: decision.details }, actor, manager);
      const updated = await manager.findOneByOrFail(Instance, { id: instance.id });
      const event = webhookEventOf(action, instance, updated);
      if (event) {
        const facts = InstanceDto.from(updated);
        const data = { instance: { id: facts.id, instanceRef: facts.instanceRef, name: facts.name, status: facts.status, services: facts.services, archivedAt: facts.archivedAt } };
        await WebhookOutbox.enqueue(manager, { owner: { instanceId: instance.id }, type: event, data: { ...data, ...(event === 'instance.services_changed' ? { previousServices: [...instance.services] } : {}), actor: actorFacts(actor) } });
      }
      return updated;
    });
    return InstanceDto.from(updated);
  }
}

/** The webhook an instance change sends, if any: a rename alone is not an event of SPEC §14. */
function webhookEventOf(action: string, before: Instance, after: Instance): 'instance.archived' | 'instance.restored' | 'instance.services_changed' | undefined {
  if (action === 'instance.archived') return 'instance.archived';
  if (action === 'instance.restored') return 'instance.restored';
  const set = (s: readonly string[]) => [...s].sort().join(',');
  if (action === 'instance.updated' && set(before.services) !== set(after.services)) return 'instance.services_changed';
  return undefined;
}
