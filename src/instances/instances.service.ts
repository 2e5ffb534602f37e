import { Injectable } from '@nestjs/common';
import { AuditEventDto } from '../audit/audit-event.dto';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../domain/actor';
import { AppException } from '../common/errors/app.exception';
import { randomAlphanumeric } from '../common/crypto/secrets';
import { Page } from '../common/http/page';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { isUniqueViolation } from '../database/sql';
import { Transactions } from '../database/transactions';
import { IssuedKeyDto } from '../instance-keys/instance-key.dto';
import { InstanceKeysService } from '../instance-keys/instance-keys.service';
import { instanceTag, KeyInvalidationService } from '../key-cache/key-invalidation.service';
import type { Instance } from './instance.entity';
import { CreateInstanceDto, InstanceDto, ListInstancesQueryDto, UpdateInstanceDto } from './instance.dto';
import { InstanceChange, InstanceRepository } from './instance.repository';
import { WebhookOutbox } from '../webhooks/webhook-outbox.repository';
import { actorFacts } from '../webhooks/webhook-payloads';

const REF_ATTEMPTS = 5;

@Injectable()
export class InstancesService {
  constructor(
    private readonly instances: InstanceRepository,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
    private readonly keys: InstanceKeysService,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  /**
   * A new instance under a fresh random ref and its first key, `Default`, in one transaction: both
   * or neither. A ref collision (62^8 space, so rare) rolls back and retries with a new ref.
   */
  async createWithFirstKey(dto: CreateInstanceDto, actor: Actor): Promise<{ instance: InstanceDto; key: IssuedKeyDto }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tx.run(async () => {
          const instance = await this.instances.insert(randomAlphanumeric(8), dto.name, dto.services ?? []);
          await this.audit.record(
            {
              action: 'instance.created',
              target: { type: 'instance', id: instance.ref },
              instanceId: instance.id,
              details: { name: instance.name, services: instance.services },
            },
            actor,
          );
          const key = await this.keys.issueFirstKey(instance, actor);
          return { instance: InstanceDto.from(instance), key };
        });
      } catch (e) {
        if (!isUniqueViolation(e, 'instances_ref_key') || attempt >= REF_ATTEMPTS) throw e;
      }
    }
  }

  /** `visibleRefs`: the only instances the caller may see (an operator token restricted to instances); null for all. */
  async list(query: ListInstancesQueryDto, visibleRefs: string[] | null = null): Promise<Page<InstanceDto>> {
    const [rows, total] = await this.instances.page(
      { refs: visibleRefs, status: query.status, search: query.search },
      query.limit,
      query.offset,
    );
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

  /** The instance row, or NOT_FOUND. */
  async findByRef(ref: string): Promise<Instance> {
    const instance = await this.instances.byRef(ref);
    if (!instance) throw new AppException('NOT_FOUND', 'Instance not found.');
    return instance;
  }

  async update(ref: string, dto: UpdateInstanceDto, actor: Actor): Promise<InstanceDto> {
    if (dto.name === undefined && dto.services === undefined) {
      throw new AppException('VALIDATION_ERROR', 'Nothing to update: send name and/or services.', {
        body: ['must contain name or services'],
      });
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
    return this.change(ref, actor, 'instance.archived', (i) =>
      i.status === 'ARCHIVED' ? null : { set: { status: 'ARCHIVED', archivedAt: 'now' } },
    );
  }

  restore(ref: string, actor: Actor): Promise<InstanceDto> {
    return this.change(ref, actor, 'instance.restored', (i) =>
      i.status === 'ACTIVE' ? null : { set: { status: 'ACTIVE', archivedAt: null } },
    );
  }

  /**
   * Locks the row, applies `decide`'s change (null: nothing to do) and records it, in one
   * transaction; every replica drops its cached checks of the instance's keys once it commits.
   */
  private async change(
    ref: string,
    actor: Actor,
    action: string,
    decide: (i: Instance) => { set: InstanceChange; details?: Record<string, unknown> } | null,
  ): Promise<InstanceDto> {
    const updated = await this.invalidation.change(async (_manager, invalidate) => {
      const instance = await this.instances.lockByRef(ref);
      if (!instance) throw new AppException('NOT_FOUND', 'Instance not found.');
      const decision = decide(instance);
      if (!decision) return instance;
      // Status and services are part of every cached check of the instance's keys.
      invalidate(instanceTag(instance.id));
      const updated = await this.instances.update(instance.id, decision.set);
      await this.audit.record(
        { action, target: { type: 'instance', id: instance.ref }, instanceId: instance.id, details: decision.details },
        actor,
      );
      const event = webhookEventOf(action, instance, updated);
      if (event) {
        const facts = InstanceDto.from(updated);
        const data = {
          instance: {
            id: facts.id,
            instanceRef: facts.instanceRef,
            name: facts.name,
            status: facts.status,
            services: facts.services,
            archivedAt: facts.archivedAt,
          },
        };
        await WebhookOutbox.enqueue(this.tx.manager, {
          owner: { instanceId: instance.id },
          type: event,
          data: {
            ...data,
            ...(event === 'instance.services_changed' ? { previousServices: [...instance.services] } : {}),
            actor: actorFacts(actor),
          },
        });
      }
      return updated;
    });
    return InstanceDto.from(updated);
  }
}

/** The webhook an instance change sends, if any: a rename alone is not an event of SPEC §14. */
function webhookEventOf(
  action: string,
  before: Instance,
  after: Instance,
): 'instance.archived' | 'instance.restored' | 'instance.services_changed' | undefined {
  if (action === 'instance.archived') return 'instance.archived';
  if (action === 'instance.restored') return 'instance.restored';
  const set = (s: readonly string[]) => [...s].sort().join(',');
  if (action === 'instance.updated' && set(before.services) !== set(after.services)) return 'instance.services_changed';
  return undefined;
}
