import { Inject, Injectable } from '@nestjs/common';
import { KeyInvalidationService, keyTag } from '../key-cache/key-invalidation.service';
import { AuditService } from '../audit/audit.service';
import { keyNotActiveForManagement } from '../auth/key-management.limit.guard';
import type { Actor } from '../domain/actor';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { Page } from '../common/http/page';
import type { AuditEventDto } from '../audit/audit-event.dto';
import { isUniqueViolation } from '../database/sql';
import { Transactions } from '../database/transactions';
import {
  CreateKeyDto,
  DeletedKeyDto,
  InstanceKeyDto,
  IssuedKeyDto,
  KeyRestrictionsDto,
  ListKeysQueryDto,
  PauseKeyDto,
  RotateKeyDto,
  UpdateKeyDto,
} from './instance-key.dto';
import { canonicalCidrs, effectiveServices, grantExceeds, KeyRestrictions, sortServices, UNRESTRICTED } from '../domain/key-restrictions';
import { generateInstanceKey } from '../domain/instance-key.material';
import { effectiveStatus, isUsable, KeyAction, KeyStatus, transition } from '../domain/instance-key.state';
import { isoOrNull } from '../common/http/iso-date';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { InstanceKeyRepository, KeyInstance, KeyRow } from './instance-key.repository';
import { WebhookOutbox } from '../webhooks/webhook-outbox.repository';
import { actorFacts, instanceFacts, keyFacts } from '../webhooks/webhook-payloads';

/** Which instance a request may touch: the admin names it by ref, an instance key is bound to its id. */
export type KeyScope = { instanceRef: string } | { instanceId: string };

const restrictionsOf = (row: KeyRow): KeyRestrictions => ({
  services: row.services,
  allowedCidrs: row.allowedCidrs,
  rateLimitPerMinute: row.rateLimitPerMinute,
});

const dto = (row: KeyRow) => InstanceKeyDto.from(row, row.now);
const keyNotFound = () => new AppException('NOT_FOUND', 'Key not found.');
const instanceNotFound = () => new AppException('NOT_FOUND', 'Instance not found.');

/**
 * The key lifecycle behind both doors. Every change runs in a transaction that first locks the
 * instance row, which serialises all key changes of one instance across every replica: the cap,
 * "one successor per key" and revoke-versus-rotate races are decided in that order. Compare-and-set
 * updates and the partial unique index on replaces_key_id stand behind the lock.
 */
@Injectable()
export class InstanceKeysService {
  constructor(
    private readonly keys: InstanceKeyRepository,
    private readonly tx: Transactions,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  /** The instance's first key, in the running transaction that creates the instance. */
  issueFirstKey(instance: { id: string; ref: string }, actor: Actor): Promise<IssuedKeyDto> {
    return this.issue(instance, 'Default', null, null, UNRESTRICTED, actor);
  }

  async list(scope: KeyScope, query: ListKeysQueryDto): Promise<Page<InstanceKeyDto>> {
    const instance = await this.findInstance(scope, false);
    const { rows, total } = await this.keys.page(instance.id, query.status, query.limit, query.offset);
    return new Page(rows.map(dto), total, query.limit, query.offset);
  }

  async get(scope: KeyScope, keyId: string): Promise<InstanceKeyDto> {
    const instance = await this.findInstance(scope, false);
    return dto(await this.findKey(instance.id, keyId, false));
  }

  async events(scope: KeyScope, query: PaginationQueryDto): Promise<Page<AuditEventDto>> {
    const instance = await this.findInstance(scope, false);
    // The instance's own key reads the tenant view; the admin door (by ref) sees everything.
    return this.audit.listForInstance(instance.id, query.limit, query.offset, 'instanceRef' in scope ? 'operator' : 'tenant');
  }

  /** Through the self-service door the new key may not reach further than the acting key does. */
  async create(scope: KeyScope, body: CreateKeyDto, actor: Actor): Promise<IssuedKeyDto> {
    const expiresAt = body.expiresAt === undefined ? null : parseTime(body.expiresAt, 'expiresAt');
    return this.changeInstance(scope, actor, async (instance, _invalidate, held) => {
      const restrictions = this.restrictionsFrom(body, UNRESTRICTED, instance);
      if (held) requireWithin(instance, held, restrictions);
      if (instance.status === 'ARCHIVED') throw new AppException('INSTANCE_ARCHIVED');
      if (expiresAt) await this.requireFuture(expiresAt, 'expiresAt');
      const n = await this.keys.countInStatuses(instance.id, ['ACTIVE', 'PAUSED']);
      const cap = this.config.keys.maxActivePerInstance;
      if (n >= cap) throw new AppException('KEY_LIMIT_REACHED', `The instance already has ${cap} active or paused keys (the maximum).`);
      return this.issue(instance, body.name, expiresAt, null, restrictions, actor);
    });
  }

  /**
   * SPEC §12 `PATCH`: name and restrictions of a key that is not final. Every replica drops its
   * cached check of the key when this commits, so a narrowing holds from the next request on.
   */
  async update(scope: KeyScope, keyId: string, body: UpdateKeyDto, actor: Actor): Promise<InstanceKeyDto> {
    const fields = (['name', 'services', 'allowedCidrs', 'rateLimitPerMinute'] as const).filter((f) => body[f] !== undefined);
    if (fields.length === 0) {
      throw new AppException('VALIDATION_ERROR', 'Nothing to update: send name, services, allowedCidrs and/or rateLimitPerMinute.', {
        body: ['must contain at least one of name, services, allowedCidrs, rateLimitPerMinute'],
      });
    }
    return this.changeInstance(scope, actor, async (instance, invalidate, held) => {
      const key = await this.findKey(instance.id, keyId, true);
      invalidate(keyTag(key.id));
      const from = effectiveStatus(key, key.now);
      if (from === 'REVOKED' || from === 'EXPIRED') throw new AppException('KEY_NOT_ACTIVE', 'A revoked or expired key cannot be changed.');
      const before = restrictionsOf(key);
      const after = this.restrictionsFrom(body, before, instance);
      if (held) requireWithin(instance, held, after);
      const name = body.name ?? key.name;
      const updated = await this.keys.update(key.id, name, after);
      const changes: Record<string, unknown> = {};
      if (name !== key.name) changes.name = { from: key.name, to: name };
      for (const field of ['services', 'allowedCidrs', 'rateLimitPerMinute'] as const) {
        if (JSON.stringify(before[field]) !== JSON.stringify(after[field])) changes[field] = { from: before[field], to: after[field] };
      }
      await this.audit.record(
        { action: 'key.updated', target: { type: 'key', id: key.id }, instanceId: instance.id, details: changes },
        actor,
      );
      return dto(updated);
    });
  }

  /**
   * The restrictions a create or PATCH asks for, on top of `base` (a field left out keeps its
   * value; `null` lifts it), validated against the instance and the deployment.
   */
  private restrictionsFrom(body: KeyRestrictionsDto, base: KeyRestrictions, instance: KeyInstance): KeyRestrictions {
    const details: Record<string, string[]> = {};
    let services = base.services;
    if (body.services !== undefined) {
      services = body.services === null ? null : sortServices(body.services);
      const missing = (services ?? []).filter((s) => !instance.services.includes(s));
      if (missing.length > 0) details.services = [`the instance does not have ${missing.join(', ')}`];
    }
    let allowedCidrs = base.allowedCidrs;
    if (body.allowedCidrs !== undefined) {
      if (body.allowedCidrs === null) allowedCidrs = null;
      else {
        const canonical = canonicalCidrs(body.allowedCidrs);
        if ('details' in canonical) Object.assign(details, canonical.details);
        else allowedCidrs = canonical.cidrs;
      }
    }
    let rateLimitPerMinute = base.rateLimitPerMinute;
    if (body.rateLimitPerMinute !== undefined) {
      rateLimitPerMinute = body.rateLimitPerMinute;
      const deployment = this.config.rateLimits.perKeyPerMinute;
      if (rateLimitPerMinute !== null && deployment > 0 && rateLimitPerMinute > deployment) {
        details.rateLimitPerMinute = [`rateLimitPerMinute must not be greater than the deployment's ${deployment}`];
      }
    }
    if (Object.keys(details).length > 0) throw new AppException('VALIDATION_ERROR', undefined, details);
    return { services, allowedCidrs, rateLimitPerMinute };
  }

  /**
   * SPEC §5 "who may manage keys": the acting key of a self-service change (null for the admin
   * door), read again in the change's transaction before anything else is decided. The guard
   * admitted it before this transaction began, and a revoke, pause, rotation or archive may have
   * committed since; every key change of an instance holds that instance's row lock, so what is read
   * here holds until this change commits. It must still pass (else AUTH_FAILED, as if the request
   * had come a moment later) and be ACTIVE (a key in its rotation overlap manages nothing: a leaked
   * predecessor must not act on its successor). Answers what it holds, the ceiling of what it may grant.
   */
  private async actingKey(instance: KeyInstance, actor: Actor): Promise<KeyRestrictions | null> {
    if (actor.type !== 'instance_key') return null;
    const acting = actor.id === null ? undefined : await this.keys.key(instance.id, actor.id, true);
    // A deleted acting key fails like a revoked one.
    const status = acting ? effectiveStatus(acting, acting.now) : 'REVOKED';
    if (!acting || !isUsable(status) || instance.status !== 'ACTIVE') throw new AppException('AUTH_FAILED');
    if (status !== 'ACTIVE') throw keyNotActiveForManagement();
    return restrictionsOf(acting);
  }

  /**
   * The old key becomes PENDING_ROTATION until the overlap ends (or its own expiry, if sooner); the
   * new key keeps its name and own expiry and points back to it.
   */
  async rotate(scope: KeyScope, keyId: string, body: RotateKeyDto, actor: Actor): Promise<IssuedKeyDto> {
    const overlapSeconds = body.overlapSeconds ?? this.config.keys.defaultOverlapSeconds;
    try {
      return await this.changeKey(scope, keyId, 'rotate', actor, { requireActiveInstance: true }, async (instance, old, _from, held) => {
        // The successor inherits the restrictions; a self-service rotation must not hand the acting key a wider key's secret.
        if (held) requireWithin(instance, held, restrictionsOf(old));
        // SPEC §5 overlap bound: each rotation leaves one more key passing for its overlap, so a
        // chain of rotations could otherwise multiply live keys (and per-key allowances) without end.
        const pending = await this.keys.countInStatuses(instance.id, ['PENDING_ROTATION']);
        const cap = this.config.keys.maxActivePerInstance;
        if (pending >= cap) {
          throw new AppException(
            'KEY_LIMIT_REACHED',
            `The instance already has ${cap} keys in their rotation overlap (the maximum): revoke one, or wait for its overlap to end.`,
          );
        }
        const ended = await this.keys.beginOverlap(old.id, overlapSeconds);
        if (!ended) throw new AppException('KEY_NOT_ACTIVE');
        const issued = await this.issue(instance, old.name, old.expiresAt, old.id, restrictionsOf(old), actor);
        const oldKey = dto(await this.keys.linkSuccessor(old.id, issued.id));
        await this.audit.record(
          {
            action: 'key.rotated',
            target: { type: 'key', id: old.id },
            instanceId: instance.id,
            details: { newKeyId: issued.id, overlapSeconds, oldKeyExpiresAt: ended.toISOString() },
          },
          actor,
        );
        await this.notify(instance, 'key.rotated', oldKey, actor, { newKey: keyFacts(issued), overlapSeconds });
        return issued;
      });
    } catch (e) {
      if (isUniqueViolation(e, 'instance_keys_one_successor')) throw new AppException('KEY_NOT_ACTIVE');
      throw e;
    }
  }

  async pause(scope: KeyScope, keyId: string, body: PauseKeyDto, actor: Actor): Promise<InstanceKeyDto> {
    if ((body.until === undefined) === (body.durationSeconds === undefined)) {
      throw new AppException('VALIDATION_ERROR', 'Send either until or durationSeconds.', {
        body: ['must contain exactly one of until, durationSeconds'],
      });
    }
    const until = body.until === undefined ? null : parseTime(body.until, 'until');
    return this.changeKey(scope, keyId, 'pause', actor, {}, async (instance, key) => {
      const { end, future } = await this.keys.pauseEnd(until, body.durationSeconds ?? null);
      if (!future) throw new AppException('VALIDATION_ERROR', 'The pause must end in the future.', { until: ['must be in the future'] });
      const paused = await this.keys.pause(key.id, end);
      await this.audit.record(
        { action: 'key.paused', target: { type: 'key', id: key.id }, instanceId: instance.id, details: { until: end.toISOString() } },
        actor,
      );
      return this.notify(instance, 'key.paused', dto(paused), actor);
    });
  }

  resume(scope: KeyScope, keyId: string, actor: Actor): Promise<InstanceKeyDto> {
    return this.changeKey(scope, keyId, 'resume', actor, {}, async (instance, key) => {
      const resumed = await this.keys.resume(key.id);
      await this.audit.record({ action: 'key.resumed', target: { type: 'key', id: key.id }, instanceId: instance.id }, actor);
      return this.notify(instance, 'key.resumed', dto(resumed), actor);
    });
  }

  revoke(scope: KeyScope, keyId: string, actor: Actor): Promise<InstanceKeyDto> {
    return this.changeKey(scope, keyId, 'revoke', actor, {}, async (instance, key, from) => {
      const revoked = await this.keys.revoke(key.id);
      await this.audit.record(
        { action: 'key.revoked', target: { type: 'key', id: key.id }, instanceId: instance.id, details: { from } },
        actor,
      );
      return this.notify(instance, 'key.revoked', dto(revoked), actor, { from });
    });
  }

  /** Removes the record; the audit trail keeps what happened to it. */
  delete(scope: KeyScope, keyId: string, actor: Actor): Promise<DeletedKeyDto> {
    return this.changeKey(scope, keyId, 'delete', actor, {}, async (instance, key, from) => {
      const last = dto(key);
      await this.keys.delete(key.id);
      await this.notify(instance, 'key.deleted', last, actor, { from });
      await this.audit.record(
        { action: 'key.deleted', target: { type: 'key', id: key.id }, instanceId: instance.id, details: { name: key.name, from } },
        actor,
      );
      return { id: key.id, deleted: true as const };
    });
  }

  /**
   * The one path of every key change: a transaction holding the instance row lock. Keys reported to
   * `invalidate` leave every replica's key-check cache once the transaction commits.
   */
  private changeInstance<T>(
    scope: KeyScope,
    actor: Actor,
    work: (instance: KeyInstance, invalidate: (...tags: string[]) => void, held: KeyRestrictions | null) => Promise<T>,
  ): Promise<T> {
    return this.invalidation.change(async (_manager, invalidate) => {
      const instance = await this.findInstance(scope, true);
      return work(instance, invalidate, await this.actingKey(instance, actor));
    });
  }

  private changeKey<T>(
    scope: KeyScope,
    keyId: string,
    action: KeyAction,
    actor: Actor,
    options: { requireActiveInstance?: boolean },
    work: (instance: KeyInstance, key: KeyRow, from: KeyStatus, held: KeyRestrictions | null) => Promise<T>,
  ): Promise<T> {
    return this.changeInstance(scope, actor, async (instance, invalidate, held) => {
      const key = await this.findKey(instance.id, keyId, true);
      // Any change of a key's state (resume included) makes a cached check of it stale.
      invalidate(keyTag(key.id));
      if (options.requireActiveInstance && instance.status === 'ARCHIVED') throw new AppException('INSTANCE_ARCHIVED');
      const from = effectiveStatus(key, key.now);
      const decision = transition(from, action);
      if (!decision.allowed) throw new AppException(decision.code);
      return work(instance, key, from, held);
    });
  }

  private async issue(
    instance: { id: string; ref: string },
    name: string,
    expiresAt: Date | null,
    replacesKeyId: string | null,
    restrictions: KeyRestrictions,
    actor: Actor,
  ): Promise<IssuedKeyDto> {
    const material = generateInstanceKey(instance.ref);
    const row = await this.keys.insert({
      instanceId: instance.id,
      name,
      digest: material.digest,
      prefix: material.prefix,
      hint: material.hint,
      expiresAt,
      replacesKeyId,
      restrictions,
    });
    await this.audit.record(
      {
        action: 'key.created',
        target: { type: 'key', id: row.id },
        instanceId: instance.id,
        details: {
          name,
          expiresAt: isoOrNull(row.expiresAt),
          ...(replacesKeyId ? { replacesKeyId } : {}),
          ...(restrictions.services !== null ? { services: restrictions.services } : {}),
          ...(restrictions.allowedCidrs !== null ? { allowedCidrs: restrictions.allowedCidrs } : {}),
          ...(restrictions.rateLimitPerMinute !== null ? { rateLimitPerMinute: restrictions.rateLimitPerMinute } : {}),
        },
      },
      actor,
    );
    const issued = dto(row);
    await this.notify(instance, 'key.created', issued, actor);
    return { ...issued, key: material.plaintext };
  }

  /** The key's webhook event, in the change's own transaction (the outbox); answers the key it was given. */
  private async notify(
    instance: { id: string; ref: string },
    type: 'key.created' | 'key.rotated' | 'key.paused' | 'key.resumed' | 'key.revoked' | 'key.deleted',
    key: InstanceKeyDto,
    actor: Actor,
    extra: Record<string, unknown> = {},
  ): Promise<InstanceKeyDto> {
    await WebhookOutbox.enqueue(this.tx.manager, {
      owner: { instanceId: instance.id },
      type,
      data: { instance: instanceFacts(instance), key: keyFacts(key), ...extra, actor: actorFacts(actor) },
    });
    return key;
  }

  private async findInstance(scope: KeyScope, lock: boolean): Promise<KeyInstance> {
    const row = await this.keys.instance(scope, lock);
    if (!row) throw instanceNotFound();
    return row;
  }

  private async findKey(instanceId: string, keyId: string, lock: boolean): Promise<KeyRow> {
    const row = await this.keys.key(instanceId, keyId, lock);
    if (!row) throw keyNotFound();
    return row;
  }

  private async requireFuture(at: Date, field: string): Promise<void> {
    if (!(await this.keys.isFuture(at)))
      throw new AppException('VALIDATION_ERROR', `${field} must be in the future.`, { [field]: ['must be in the future'] });
  }
}

/** PRIVILEGE_EXCEEDED unless `granted` reaches no further than `held` (SPEC §12, self-service). */
function requireWithin(instance: KeyInstance, held: KeyRestrictions, granted: KeyRestrictions): void {
  const reasons = grantExceeds(
    held,
    effectiveServices(instance.services, held.services),
    granted,
    effectiveServices(instance.services, granted.services),
  );
  if (reasons.length > 0) throw new AppException('PRIVILEGE_EXCEEDED', undefined, { restrictions: reasons });
}

function parseTime(value: string, field: string): Date {
  const at = new Date(value);
  if (Number.isNaN(at.getTime()))
    throw new AppException('VALIDATION_ERROR', undefined, { [field]: [`${field} must be a valid ISO-8601 time`] });
  return at;
}
