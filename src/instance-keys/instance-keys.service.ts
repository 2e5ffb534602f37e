import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { KeyInvalidationService, keyTag } from '../key-cache/key-invalidation.service';
import { AuditService } from '../audit/audit.service';
import { keyNotActiveForManagement } from '../auth/key-management.limit.guard';
import type { Actor } from '../domain/actor';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { Page } from '../common/http/page';
import type { AuditEventDto } from '../audit/audit-event.dto';
import { sqlStateOf, UNIQUE_VIOLATION } from '../database/database-errors';
import type { InstanceStatus } from '../domain/instance-status';
import type { InstanceKey } from './instance-key.entity';
import { CreateKeyDto, DeletedKeyDto, InstanceKeyDto, IssuedKeyDto, KeyRestrictionsDto, ListKeysQueryDto, PauseKeyDto, RotateKeyDto, UpdateKeyDto } from './instance-key.dto';
import type { ServiceName } from '../domain/platform-services';
import { canonicalCidrs, effectiveServices, grantExceeds, KeyRestrictions, sortServices, UNRESTRICTED } from '../domain/key-restrictions';
import { generateInstanceKey } from '../domain/instance-key.material';
import { effectiveStatus, effectiveStatusSql, isUsable, KeyAction, KeyStatus, transition } from '../domain/instance-key.state';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { WebhookOutbox } from '../webhooks/webhook.outbox';
import { actorFacts, instanceFacts, keyFacts } from '../webhooks/webhook-payloads';

/** Which instance a request may touch: the admin names it by ref, an instance key is bound to its id. */
export type KeyScope = { instanceRef: string } | { instanceId: string };

interface InstanceRow {
  id: string;
  ref: string;
  status: InstanceStatus;
  services: ServiceName[];
}

interface KeyRow {
  id: string;
  instance_id: string;
  name: string;
  key_prefix: string;
  key_hint: string;
  status: InstanceKey['status'];
  created_at: Date;
  expires_at: Date | null;
  paused_until: Date | null;
  rotated_at: Date | null;
  revoked_at: Date | null;
  replaces_key_id: string | null;
  replaced_by_key_id: string | null;
  last_used_at: Date | null;
  request_count: string;
  services: ServiceName[] | null;
  allowed_cidrs: string[] | null;
  rate_limit_per_minute: number | null;
  now: Date;
}

const KEY_COLUMNS = `k.id, k.instance_id, k.name, k.key_prefix, k.key_hint, k.status, k.created_at, k.expires_at, k.paused_until,
  k.rotated_at, k.revoked_at, k.replaces_key_id, k.replaced_by_key_id, k.last_used_at, k.request_count,
  k.services, k.allowed_cidrs, k.rate_limit_per_minute, now() AS now`;

function toKey(row: KeyRow): Omit<InstanceKey, 'keyDigest'> {
  return {
    id: row.id,
    instanceId: row.instance_id,
    name: row.name,
    keyPrefix: row.key_prefix,
    keyHint: row.key_hint,
    status: row.status,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    pausedUntil: row.paused_until,
    rotatedAt: row.rotated_at,
    revokedAt: row.revoked_at,
    replacesKeyId: row.replaces_key_id,
    replacedByKeyId: row.replaced_by_key_id,
    lastUsedAt: row.last_used_at,
    requestCount: row.request_count,
    services: row.services,
    allowedCidrs: row.allowed_cidrs,
    rateLimitPerMinute: row.rate_limit_per_minute,
  };
}

const restrictionsOf = (row: KeyRow): KeyRestrictions => ({ services: row.services, allowedCidrs: row.allowed_cidrs, rateLimitPerMinute: row.rate_limit_per_minute });

const dto = (row: KeyRow) => InstanceKeyDto.from(toKey(row), row.now);
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
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  /** The instance's first key, in the transaction that creates the instance. */
  issueFirstKey(manager: EntityManager, instance: { id: string; ref: string }, actor: Actor): Promise<IssuedKeyDto> {
    return this.issue(manager, instance, 'Default', null, null, UNRESTRICTED, actor);
  }

  async list(scope: KeyScope, query: ListKeysQueryDto): Promise<Page<InstanceKeyDto>> {
    const manager = this.dataSource.manager;
    const instance = await this.findInstance(manager, scope, false);
    const params: unknown[] = [instance.id];
    let filter = '';
    if (query.status) {
      params.push(query.status);
      filter = ` AND ${effectiveStatusSql('k')} = $2`;
    }
    const [{ total }] = await manager.query(`SELECT count(*)::int AS total FROM instance_keys k WHERE k.instance_id = $1${filter}`, params);
    const rows: KeyRow[] = await manager.query(
      `SELECT ${KEY_COLUMNS} FROM instance_keys k WHERE k.instance_id = $1${filter}
        ORDER BY k.created_at DESC, k.id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, query.limit, query.offset],
    );
    return new Page(rows.map(dto), total, query.limit, query.offset);
  }

  async get(scope: KeyScope, keyId: string): Promise<InstanceKeyDto> {
    const manager = this.dataSource.manager;
    const instance = await this.findInstance(manager, scope, false);
    return dto(await this.findKey(manager, instance.id, keyId, false));
  }

  async events(scope: KeyScope, query: PaginationQueryDto): Promise<Page<AuditEventDto>> {
    const instance = await this.findInstance(this.dataSource.manager, scope, false);
    // The instance's own key reads the tenant view; the admin door (by ref) sees everything.
    return this.audit.listForInstance(instance.id, query.limit, query.offset, 'instanceRef' in scope ? 'operator' : 'tenant');
  }

  /** Through the self-service door the new key may not reach further than the acting key does. */
  async create(scope: KeyScope, body: CreateKeyDto, actor: Actor): Promise<IssuedKeyDto> {
    const expiresAt = body.expiresAt === undefined ? null : parseTime(body.expiresAt, 'expiresAt');
    return this.changeInstance(scope, actor, async (manager, instance, _invalidate, held) => {
      const restrictions = this.restrictionsFrom(body, UNRESTRICTED, instance);
      if (held) requireWithin(instance, held, restrictions);
      if (instance.status === 'ARCHIVED') throw new AppException('INSTANCE_ARCHIVED');
      if (expiresAt) await this.requireFuture(manager, expiresAt, 'expiresAt');
      const [{ n }] = await manager.query(
        `SELECT count(*)::int AS n FROM instance_keys k WHERE k.instance_id = $1 AND ${effectiveStatusSql('k')} IN ('ACTIVE', 'PAUSED')`,
        [instance.id],
      );
      const cap = this.config.keys.maxActivePerInstance;
      if (n >= cap) throw new AppException('KEY_LIMIT_REACHED', `The instance already has ${cap} active or paused keys (the maximum).`);
      return this.issue(manager, instance, body.name, expiresAt, null, restrictions, actor);
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
    return this.changeInstance(scope, actor, async (manager, instance, invalidate, held) => {
      const key = await this.findKey(manager, instance.id, keyId, true);
      invalidate(keyTag(key.id));
      const from = effectiveStatus({ status: key.status, expiresAt: key.expires_at, pausedUntil: key.paused_until }, key.now);
      if (from === 'REVOKED' || from === 'EXPIRED') throw new AppException('KEY_NOT_ACTIVE', 'A revoked or expired key cannot be changed.');
      const before = restrictionsOf(key);
      const after = this.restrictionsFrom(body, before, instance);
      if (held) requireWithin(instance, held, after);
      const name = body.name ?? key.name;
      await manager.query(`UPDATE instance_keys SET name = $2, services = $3, allowed_cidrs = $4, rate_limit_per_minute = $5 WHERE id = $1`, [
        key.id,
        name,
        after.services,
        after.allowedCidrs,
        after.rateLimitPerMinute,
      ]);
      const changes: Record<string, unknown> = {};
      if (name !== key.name) changes.name = { from: key.name, to: name };
      for (const field of ['services', 'allowedCidrs', 'rateLimitPerMinute'] as const) {
        if (JSON.stringify(before[field]) !== JSON.stringify(after[field])) changes[field] = { from: before[field], to: after[field] };
      }
      await this.audit.record({ action: 'key.updated', target: { type: 'key', id: key.id }, instanceId: instance.id, details: changes }, actor, manager);
      return dto(await this.findKey(manager, instance.id, key.id, false));
    });
  }

  /**
   * The restrictions a create or PATCH asks for, on top of `base` (a field left out keeps its
   * value; `null` lifts it), validated against the instance and the deployment.
   */
  private restrictionsFrom(body: KeyRestrictionsDto, base: KeyRestrictions, instance: InstanceRow): KeyRestrictions {
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
  private async actingKey(manager: EntityManager, instance: InstanceRow, actor: Actor): Promise<KeyRestrictions | null> {
    if (actor.type !== 'instance_key') return null;
    const [acting]: KeyRow[] = await manager.query(`SELECT ${KEY_COLUMNS} FROM instance_keys k WHERE k.id = $1 AND k.instance_id = $2 FOR UPDATE`, [
      actor.id,
      instance.id,
    ]);
    const status = acting ? effectiveStatus({ status: acting.status, expiresAt: acting.expires_at, pausedUntil: acting.paused_until }, acting.now) : 'REVOKED';
    if (!isUsable(status) || instance.status !== 'ACTIVE') throw new AppException('AUTH_FAILED');
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
      return await this.changeKey(scope, keyId, 'rotate', actor, { requireActiveInstance: true }, async (manager, instance, old, _from, held) => {
        // The successor inherits the restrictions; a self-service rotation must not hand the acting key a wider key's secret.
        if (held) requireWithin(instance, held, restrictionsOf(old));
        // SPEC §5 overlap bound: each rotation leaves one more key passing for its overlap, so a
        // chain of rotations could otherwise multiply live keys (and per-key allowances) without end.
        const [{ pending }] = await manager.query(
          `SELECT count(*)::int AS pending FROM instance_keys k WHERE k.instance_id = $1 AND ${effectiveStatusSql('k')} = 'PENDING_ROTATION'`,
          [instance.id],
        );
        const cap = this.config.keys.maxActivePerInstance;
        if (pending >= cap) {
          throw new AppException(
            'KEY_LIMIT_REACHED',
            `The instance already has ${cap} keys in their rotation overlap (the maximum): revoke one, or wait for its overlap to end.`,
          );
        }
        const [ended] = await manager.query(
          `WITH u AS (
             UPDATE instance_keys k SET status = 'PENDING_ROTATION', rotated_at = now(), paused_until = NULL,
                    expires_at = LEAST(COALESCE(k.expires_at, 'infinity'::timestamptz), now() + $2::int * interval '1 second')
              WHERE k.id = $1 AND ${effectiveStatusSql('k')} = 'ACTIVE'
             RETURNING k.expires_at)
           SELECT expires_at FROM u`,
          [old.id, overlapSeconds],
        );
        if (!ended) throw new AppException('KEY_NOT_ACTIVE');
        const issued = await this.issue(manager, instance, old.name, old.expires_at, old.id, restrictionsOf(old), actor);
        await manager.query(`UPDATE instance_keys SET replaced_by_key_id = $2 WHERE id = $1`, [old.id, issued.id]);
        await this.audit.record(
          {
            action: 'key.rotated',
            target: { type: 'key', id: old.id },
            instanceId: instance.id,
            details: { newKeyId: issued.id, overlapSeconds, oldKeyExpiresAt: ended.expires_at.toISOString() },
          },
          actor,
          manager,
        );
        const oldKey = dto(await this.findKey(manager, instance.id, old.id, false));
        await this.notify(manager, instance, 'key.rotated', oldKey, actor, { newKey: keyFacts(issued), overlapSeconds });
        return issued;
      });
    } catch (e) {
      if (sqlStateOf(e) === UNIQUE_VIOLATION && constraintOf(e) === 'instance_keys_one_successor') throw new AppException('KEY_NOT_ACTIVE');
      throw e;
    }
  }

  async pause(scope: KeyScope, keyId: string, body: PauseKeyDto, actor: Actor): Promise<InstanceKeyDto> {
    if ((body.until === undefined) === (body.durationSeconds === undefined)) {
      throw new AppException('VALIDATION_ERROR', 'Send either until or durationSeconds.', { body: ['must contain exactly one of until, durationSeconds'] });
    }
    const until = body.until === undefined ? null : parseTime(body.until, 'until');
    return this.changeKey(scope, keyId, 'pause', actor, {}, async (manager, instance, key) => {
      const [{ end, future }] = await manager.query(
        `SELECT e AS end, e > now() AS future FROM (SELECT COALESCE($1::timestamptz, now() + $2::int * interval '1 second') AS e) x`,
        [until, body.durationSeconds ?? null],
      );
      if (!future) throw new AppException('VALIDATION_ERROR', 'The pause must end in the future.', { until: ['must be in the future'] });
      await manager.query(`UPDATE instance_keys SET status = 'PAUSED', paused_until = $2 WHERE id = $1`, [key.id, end]);
      await this.audit.record({ action: 'key.paused', target: { type: 'key', id: key.id }, instanceId: instance.id, details: { until: end.toISOString() } }, actor, manager);
      return this.notify(manager, instance, 'key.paused', dto(await this.findKey(manager, instance.id, key.id, false)), actor);
    });
  }

  resume(scope: KeyScope, keyId: string, actor: Actor): Promise<InstanceKeyDto> {
    return this.changeKey(scope, keyId, 'resume', actor, {}, async (manager, instance, key) => {
      await manager.query(`UPDATE instance_keys SET status = 'ACTIVE', paused_until = NULL WHERE id = $1`, [key.id]);
      await this.audit.record({ action: 'key.resumed', target: { type: 'key', id: key.id }, instanceId: instance.id }, actor, manager);
      return this.notify(manager, instance, 'key.resumed', dto(await this.findKey(manager, instance.id, key.id, false)), actor);
    });
  }

  revoke(scope: KeyScope, keyId: string, actor: Actor): Promise<InstanceKeyDto> {
    return this.changeKey(scope, keyId, 'revoke', actor, {}, async (manager, instance, key, from) => {
      await manager.query(`UPDATE instance_keys SET status = 'REVOKED', revoked_at = now() WHERE id = $1`, [key.id]);
      await this.audit.record({ action: 'key.revoked', target: { type: 'key', id: key.id }, instanceId: instance.id, details: { from } }, actor, manager);
      return this.notify(manager, instance, 'key.revoked', dto(await this.findKey(manager, instance.id, key.id, false)), actor, { from });
    });
  }

  /** Removes the record; the audit trail keeps what happened to it. */
  delete(scope: KeyScope, keyId: string, actor: Actor): Promise<DeletedKeyDto> {
    return this.changeKey(scope, keyId, 'delete', actor, {}, async (manager, instance, key, from) => {
      const last = dto(key);
      await manager.query(`DELETE FROM instance_keys WHERE id = $1`, [key.id]);
      await this.notify(manager, instance, 'key.deleted', last, actor, { from });
      await this.audit.record(
        { action: 'key.deleted', target: { type: 'key', id: key.id }, instanceId: instance.id, details: { name: key.name, from } },
        actor,
        manager,
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
    work: (manager: EntityManager, instance: InstanceRow, invalidate: (...tags: string[]) => void, held: KeyRestrictions | null) => Promise<T>,
  ): Promise<T> {
    return this.invalidation.change(async (manager, invalidate) => {
      const instance = await this.findInstance(manager, scope, true);
      return work(manager, instance, invalidate, await this.actingKey(manager, instance, actor));
    });
  }

  private changeKey<T>(
    scope: KeyScope,
    keyId: string,
    action: KeyAction,
    actor: Actor,
    options: { requireActiveInstance?: boolean },
    work: (manager: EntityManager, instance: InstanceRow, key: KeyRow, from: KeyStatus, held: KeyRestrictions | null) => Promise<T>,
  ): Promise<T> {
    return this.changeInstance(scope, actor, async (manager, instance, invalidate, held) => {
      const key = await this.findKey(manager, instance.id, keyId, true);
      // Any change of a key's state (resume included) makes a cached check of it stale.
      invalidate(keyTag(key.id));
      if (options.requireActiveInstance && instance.status === 'ARCHIVED') throw new AppException('INSTANCE_ARCHIVED');
      const from = effectiveStatus({ status: key.status, expiresAt: key.expires_at, pausedUntil: key.paused_until }, key.now);
      const decision = transition(from, action);
      if (!decision.allowed) throw new AppException(decision.code);
      return work(manager, instance, key, from, held);
    });
  }

  private async issue(
    manager: EntityManager,
    instance: { id: string; ref: string },
    name: string,
    expiresAt: Date | null,
    replacesKeyId: string | null,
    restrictions: KeyRestrictions,
    actor: Actor,
  ): Promise<IssuedKeyDto> {
    const material = generateInstanceKey(instance.ref);
    // clock_timestamp(): keys made in one transaction (a rotation) still list in creation order.
    const [row]: KeyRow[] = await manager.query(
      `INSERT INTO instance_keys AS k (instance_id, name, key_digest, key_prefix, key_hint, expires_at, replaces_key_id, services, allowed_cidrs, rate_limit_per_minute, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, clock_timestamp())
       RETURNING ${KEY_COLUMNS}`,
      [instance.id, name, material.digest, material.prefix, material.hint, expiresAt, replacesKeyId, restrictions.services, restrictions.allowedCidrs, restrictions.rateLimitPerMinute],
    );
    await this.audit.record(
      {
        action: 'key.created',
        target: { type: 'key', id: row.id },
        instanceId: instance.id,
        details: {
          name,
          expiresAt: row.expires_at ? row.expires_at.toISOString() : null,
          ...(replacesKeyId ? { replacesKeyId } : {}),
          ...(restrictions.services !== null ? { services: restrictions.services } : {}),
          ...(restrictions.allowedCidrs !== null ? { allowedCidrs: restrictions.allowedCidrs } : {}),
          ...(restrictions.rateLimitPerMinute !== null ? { rateLimitPerMinute: restrictions.rateLimitPerMinute } : {}),
        },
      },
      actor,
      manager,
    );
    const issued = dto(row);
    await this.notify(manager, instance, 'key.created', issued, actor);
    return { ...issued, key: material.plaintext };
  }

  /** The key's webhook event, in the change's own transaction (the outbox); answers the key it was given. */
  private async notify(
    manager: EntityManager,
    instance: { id: string; ref: string },
    type: 'key.created' | 'key.rotated' | 'key.paused' | 'key.resumed' | 'key.revoked' | 'key.deleted',
    key: InstanceKeyDto,
    actor: Actor,
    extra: Record<string, unknown> = {},
  ): Promise<InstanceKeyDto> {
    await WebhookOutbox.enqueue(manager, { owner: { instanceId: instance.id }, type, data: { instance: instanceFacts(instance), key: keyFacts(key), ...extra, actor: actorFacts(actor) } });
    return key;
  }

  private async findInstance(manager: EntityManager, scope: KeyScope, lock: boolean): Promise<InstanceRow> {
    const [column, value] = 'instanceRef' in scope ? ['ref', scope.instanceRef] : ['id', scope.instanceId];
    const [row] = await manager.query(`SELECT id, ref, status, services FROM instances WHERE ${column} = $1${lock ? ' FOR UPDATE' : ''}`, [value]);
    if (!row) throw instanceNotFound();
    return row;
  }

  private async findKey(manager: EntityManager, instanceId: string, keyId: string, lock: boolean): Promise<KeyRow> {
    const [row] = await manager.query(`SELECT ${KEY_COLUMNS} FROM instance_keys k WHERE k.id = $1 AND k.instance_id = $2${lock ? ' FOR UPDATE' : ''}`, [
      keyId,
      instanceId,
    ]);
    if (!row) throw keyNotFound();
    return row;
  }

  private async requireFuture(manager: EntityManager, at: Date, field: string): Promise<void> {
    const [{ future }] = await manager.query(`SELECT $1::timestamptz > now() AS future`, [at]);
    if (!future) throw new AppException('VALIDATION_ERROR', `${field} must be in the future.`, { [field]: ['must be in the future'] });
  }
}

/** PRIVILEGE_EXCEEDED unless `granted` reaches no further than `held` (SPEC §12, self-service). */
function requireWithin(instance: InstanceRow, held: KeyRestrictions, granted: KeyRestrictions): void {
  const reasons = grantExceeds(held, effectiveServices(instance.services, held.services), granted, effectiveServices(instance.services, granted.services));
  if (reasons.length > 0) throw new AppException('PRIVILEGE_EXCEEDED', undefined, { restrictions: reasons });
}

function parseTime(value: string, field: string): Date {
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new AppException('VALIDATION_ERROR', undefined, { [field]: [`${field} must be a valid ISO-8601 time`] });
  return at;
}

function constraintOf(e: unknown): string | undefined {
  const err = e as { constraint?: string; driverError?: { constraint?: string } };
  return err.driverError?.constraint ?? err.constraint;
}
