import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../domain/actor';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { Page } from '../common/http/page';
import { effectiveStatusSql } from '../domain/instance-key.state';
import { eventTypesOf, WebhookOwner } from './webhook-events';
import { CreateWebhookDto, DeletedWebhookDto, ListDeliveriesQueryDto, UpdateWebhookDto, WebhookDeliveryDto, WebhookEndpointDto, WebhookEndpointWithSecretDto, WebhookTestDto } from './webhook.dto';
import { WebhookOutbox } from './webhook.outbox';
import { messageIdOf, newSigningKey, secretOf } from './webhook.signature';
import { refuseUrl } from './webhook-target.guard';

/** How long the previous secret keeps signing after a rotation (SPEC §14). */
export const SECRET_OVERLAP_SECONDS = 86_400;

/**
 * Whose endpoints a request may touch. The admin names an instance by ref; an instance key is bound
 * to its instance (and must still be ACTIVE when the change commits); a developer to the account.
 */
export type WebhookScope = { instanceRef: string } | { instanceId: string; actingKeyId?: string } | { developerId: string };

interface EndpointRow {
  id: string;
  url: string;
  description: string | null;
  events: string[] | null;
  enabled: boolean;
  disabled_reason: string | null;
  previous_key_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
  now: Date;
}

const ENDPOINT_COLUMNS = `e.id, e.url, e.description, e.events, e.enabled, e.disabled_reason, e.previous_key_expires_at, e.created_at, e.updated_at, now() AS now`;

function toDto(row: EndpointRow): WebhookEndpointDto {
  const previousLive = row.previous_key_expires_at && row.previous_key_expires_at > row.now;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    previousSecretExpiresAt: previousLive ? row.previous_key_expires_at!.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** A delivery with every attempt made of it, oldest first. */
const DELIVERY_SELECT = `SELECT d.id, d.event_id, ev.type, d.status, d.attempts, d.last_response_status, d.last_error, d.next_attempt_at, d.created_at,
              COALESCE((SELECT json_agg(json_build_object('attempt', a.attempt, 'status', a.outcome, 'responseStatus', a.response_status, 'error', a.error,
                                                          'at', a.at, 'durationMs', a.duration_ms, 'nextAttemptAt', a.next_attempt_at) ORDER BY a.attempt)
                          FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]'::json) AS log
         FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id`;

const notFound = () => new AppException('NOT_FOUND', 'Webhook endpoint not found.');
const ownerColumn = (owner: WebhookOwner) => ('instanceId' in owner ? ['instance_id', owner.instanceId] : ['developer_id', owner.developerId]);

@Injectable()
export class WebhookEndpointsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {}

  async list(scope: WebhookScope, limit: number, offset: number): Promise<Page<WebhookEndpointDto>> {
    const manager = this.dataSource.manager;
    const [column, id] = ownerColumn(await this.owner(manager, scope, false));
    const [{ total }] = await manager.query(`SELECT count(*)::int AS total FROM webhook_endpoints WHERE ${column} = $1`, [id]);
    const rows: EndpointRow[] = await manager.query(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.${column} = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT $2 OFFSET $3`,
      [id, limit, offset],
    );
    return new Page(rows.map(toDto), total, limit, offset);
  }

  async get(scope: WebhookScope, endpointId: string): Promise<WebhookEndpointDto> {
    const manager = this.dataSource.manager;
    return toDto(await this.endpoint(manager, await this.owner(manager, scope, false), endpointId, false));
  }

  async create(scope: WebhookScope, body: CreateWebhookDto, actor: Actor): Promise<WebhookEndpointWithSecretDto> {
    this.checkUrl(body.url);
    return this.change(scope, async (manager, owner) => {
      this.checkEvents(owner, body.events);
      const [column, id] = ownerColumn(owner);
      const [{ n }] = await manager.query(`SELECT count(*)::int AS n FROM webhook_endpoints WHERE ${column} = $1`, [id]);
      const cap = this.config.webhooks.maxEndpointsPerOwner;
      if (n >= cap) throw new AppException('WEBHOOK_LIMIT_REACHED', `At most ${cap} webhook endpoints are allowed.`);
      const key = newSigningKey();
      const [row]: EndpointRow[] = await manager.query(
        `INSERT INTO webhook_endpoints AS e (${column}, url, description, events, signing_key) VALUES ($1, $2, $3, $4, $5) RETURNING ${ENDPOINT_COLUMNS}`,
        [id, body.url, body.description ?? null, body.events ?? null, key],
      );
      await this.record(manager, owner, actor, 'webhook.created', row.id, { url: row.url, events: row.events });
      return { ...toDto(row), secret: secretOf(key) };
    });
  }

  async update(scope: WebhookScope, endpointId: string, body: UpdateWebhookDto, actor: Actor): Promise<WebhookEndpointDto> {
    if (body.url === undefined && body.events === undefined && body.enabled === undefined && body.description === undefined) {
      throw new AppException('VALIDATION_ERROR', 'Nothing to update: send url, events, enabled and/or description.', { body: ['must contain url, events, enabled or description'] });
    }
    if (body.url !== undefined) this.checkUrl(body.url);
    return this.change(scope, async (manager, owner) => {
      const current = await this.endpoint(manager, owner, endpointId, true);
      if (body.events !== undefined) this.checkEvents(owner, body.events);
      await manager.query(
        `UPDATE webhook_endpoints SET
           url = COALESCE($2, url),
           events = CASE WHEN $3::boolean THEN $4::text[] ELSE events END,
           enabled = COALESCE($5, enabled),
           disabled_reason = CASE WHEN $5::boolean IS NULL THEN disabled_reason WHEN $5 THEN NULL ELSE 'disabled by its owner' END,
           description = COALESCE($6, description),
           updated_at = now()
         WHERE id = $1`,
        [current.id, body.url ?? null, body.events !== undefined, body.events ?? null, body.enabled ?? null, body.description ?? null],
      );
      if (body.enabled === false) await this.cancelPending(manager, current.id, 'endpoint disabled');
      const changed = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
      await this.record(manager, owner, actor, 'webhook.updated', current.id, changed);
      return toDto(await this.endpoint(manager, owner, current.id, false));
    });
  }

  delete(scope: WebhookScope, endpointId: string, actor: Actor): Promise<DeletedWebhookDto> {
    return this.change(scope, async (manager, owner) => {
      const current = await this.endpoint(manager, owner, endpointId, true);
      // Its deliveries and attempts go with it (ON DELETE CASCADE): nothing more is sent.
      await manager.query(`DELETE FROM webhook_endpoints WHERE id = $1`, [current.id]);
      await this.record(manager, owner, actor, 'webhook.deleted', current.id, { url: current.url });
      return { id: current.id, deleted: true as const };
    });
  }

  /** A new secret; the previous one keeps signing beside it for 24 h, so receivers can switch without a gap. */
  rotateSecret(scope: WebhookScope, endpointId: string, actor: Actor): Promise<WebhookEndpointWithSecretDto> {
    return this.change(scope, async (manager, owner) => {
      const current = await this.endpoint(manager, owner, endpointId, true);
      const key = newSigningKey();
      await manager.query(
        `UPDATE webhook_endpoints SET previous_signing_key = signing_key, previous_key_expires_at = now() + $3::int * interval '1 second',
                signing_key = $2, updated_at = now() WHERE id = $1`,
        [current.id, key, SECRET_OVERLAP_SECONDS],
      );
      await this.record(manager, owner, actor, 'webhook.secret_rotated', current.id);
      return { ...toDto(await this.endpoint(manager, owner, current.id, false)), secret: secretOf(key) };
    });
  }

  /** Queues a `webhook.test` event for this endpoint alone (whatever its event filter). */
  test(scope: WebhookScope, endpointId: string, actor: Actor): Promise<WebhookTestDto> {
    return this.change(scope, async (manager, owner) => {
      const current = await this.endpoint(manager, owner, endpointId, true);
      if (!current.enabled) throw new AppException('CONFLICT', 'The endpoint is disabled; enable it first.');
      const { eventId } = await WebhookOutbox.enqueue(
        manager,
        { owner, type: 'webhook.test', data: { endpointId: current.id, message: 'This is a test event from the Trusset key service.' } },
        current.id,
      );
      const [delivery] = await manager.query(`SELECT id FROM webhook_deliveries WHERE event_id = $1 AND endpoint_id = $2`, [eventId, current.id]);
      await this.record(manager, owner, actor, 'webhook.test_sent', current.id, { eventId });
      return { eventId: eventId!, deliveryId: delivery.id, webhookId: messageIdOf(eventId!) };
    });
  }

  async deliveries(scope: WebhookScope, endpointId: string, query: ListDeliveriesQueryDto): Promise<Page<WebhookDeliveryDto>> {
    const manager = this.dataSource.manager;
    const endpoint = await this.endpoint(manager, await this.owner(manager, scope, false), endpointId, false);
    const params: unknown[] = [endpoint.id];
    let filter = '';
    if (query.status) {
      params.push(query.status);
      filter = ` AND d.status = $2`;
    }
    const [{ total }] = await manager.query(`SELECT count(*)::int AS total FROM webhook_deliveries d WHERE d.endpoint_id = $1${filter}`, params);
    const rows = await manager.query(
      `${DELIVERY_SELECT}
        WHERE d.endpoint_id = $1${filter}
        ORDER BY d.created_at DESC, d.id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, query.limit, query.offset],
    );
    return new Page(rows.map(deliveryDto), total, query.limit, query.offset);
  }

  /** Queues the delivery again now, under the same `webhook-id`; an attempt in flight is not doubled. */
  retry(scope: WebhookScope, endpointId: string, deliveryId: string, actor: Actor): Promise<WebhookDeliveryDto> {
    return this.change(scope, async (manager, owner) => {
      const endpoint = await this.endpoint(manager, owner, endpointId, true);
      if (!endpoint.enabled) throw new AppException('CONFLICT', 'The endpoint is disabled; enable it first.');
      const [rows] = await manager.query(
        `UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = now(), updated_at = now()
          WHERE id = $1 AND endpoint_id = $2 AND (lease_until IS NULL OR lease_until <= now()) RETURNING id`,
        [deliveryId, endpoint.id],
      );
      if (rows.length === 0) {
        const [exists] = await manager.query(`SELECT 1 FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2`, [deliveryId, endpoint.id]);
        if (!exists) throw new AppException('NOT_FOUND', 'Delivery not found.');
        throw new AppException('CONFLICT', 'An attempt of this delivery is in flight.');
      }
      await this.record(manager, owner, actor, 'webhook.delivery_retried', endpoint.id, { deliveryId });
      return this.deliveryById(manager, deliveryId);
    });
  }

  private async deliveryById(manager: EntityManager, deliveryId: string): Promise<WebhookDeliveryDto> {
    const [row] = await manager.query(
      `${DELIVERY_SELECT} WHERE d.id = $1`,
      [deliveryId],
    );
    return deliveryDto(row);
  }

  /** Every endpoint change is in the owner's audit trail (never the secret). */
  private record(manager: EntityManager, owner: WebhookOwner, actor: Actor, action: string, endpointId: string, details?: Record<string, unknown>): Promise<void> {
    const tenant = 'instanceId' in owner ? { instanceId: owner.instanceId } : { developerId: owner.developerId };
    return this.audit.record({ action, target: { type: 'webhook', id: endpointId }, ...tenant, details }, actor, manager);
  }

  private async cancelPending(manager: EntityManager, endpointId: string, reason: string): Promise<void> {
    await manager.query(
      `UPDATE webhook_deliveries SET status = 'CANCELLED', next_attempt_at = NULL, last_error = $2, updated_at = now() WHERE endpoint_id = $1 AND status = 'PENDING'`,
      [endpointId, reason],
    );
  }

  private checkUrl(url: string): void {
    const reason = refuseUrl(url, this.config.webhooks);
    if (reason) throw new AppException('VALIDATION_ERROR', `url ${reason}.`, { url: [`url ${reason}`] });
  }

  private checkEvents(owner: WebhookOwner, events: string[] | null | undefined): void {
    if (!events) return;
    const allowed = eventTypesOf(owner);
    const wrong = events.filter((e) => !allowed.includes(e));
    if (wrong.length > 0) {
      throw new AppException('VALIDATION_ERROR', 'These events are not available here.', { events: [`not available for this endpoint: ${wrong.join(', ')}`] });
    }
  }

  /**
   * A change of an owner's endpoints: a transaction holding the owner row's lock (which serialises
   * the endpoint cap), and for an instance key, a re-check that the acting key is still ACTIVE
   * under that lock, so a request in flight when its key is revoked, paused or rotated changes nothing.
   */
  private change<T>(scope: WebhookScope, work: (manager: EntityManager, owner: WebhookOwner) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => work(manager, await this.owner(manager, scope, true)));
  }

  private async owner(manager: EntityManager, scope: WebhookScope, lock: boolean): Promise<WebhookOwner> {
    const forUpdate = lock ? ' FOR UPDATE' : '';
    if ('developerId' in scope) {
      const [row] = await manager.query(`SELECT id FROM mica_developers WHERE id = $1${forUpdate}`, [scope.developerId]);
      if (!row) throw new AppException('INVALID_TOKEN');
      return { developerId: row.id };
    }
    const [column, value] = 'instanceRef' in scope ? ['ref', scope.instanceRef] : ['id', scope.instanceId];
    const [row] = await manager.query(`SELECT id FROM instances WHERE ${column} = $1${forUpdate}`, [value]);
    if (!row) throw new AppException('NOT_FOUND', 'Instance not found.');
    if (lock && 'actingKeyId' in scope && scope.actingKeyId) {
      const [acting] = await manager.query(`SELECT ${effectiveStatusSql('k')} AS status FROM instance_keys k WHERE k.id = $1 AND k.instance_id = $2`, [
        scope.actingKeyId,
        row.id,
      ]);
      if (acting?.status !== 'ACTIVE') throw new AppException('AUTH_FAILED');
    }
    return { instanceId: row.id };
  }

  private async endpoint(manager: EntityManager, owner: WebhookOwner, endpointId: string, lock: boolean): Promise<EndpointRow> {
    const [column, id] = ownerColumn(owner);
    const [row] = await manager.query(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.id = $1 AND e.${column} = $2${lock ? ' FOR UPDATE' : ''}`, [
      endpointId,
      id,
    ]);
    if (!row) throw notFound();
    return row;
  }
}

interface DeliveryRow {
  id: string;
  event_id: string;
  type: string;
  status: string;
  attempts: number;
  last_response_status: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  created_at: Date;
  log: Array<{ attempt: number; status: string; responseStatus: number | null; error: string | null; at: string; durationMs: number; nextAttemptAt: string | null }>;
}

function deliveryDto(row: DeliveryRow): WebhookDeliveryDto {
  const log = row.log.map((a) => ({ ...a, at: new Date(a.at).toISOString(), nextAttemptAt: a.nextAttemptAt ? new Date(a.nextAttemptAt).toISOString() : null }));
  return {
    id: row.id,
    eventId: row.event_id,
    webhookId: messageIdOf(row.event_id),
    type: row.type,
    status: row.status,
    attempt: row.attempts,
    responseStatus: row.last_response_status,
    error: row.last_error,
    at: log.length > 0 ? log[log.length - 1].at : row.created_at.toISOString(),
    nextAttemptAt: row.status === 'PENDING' && row.next_attempt_at ? row.next_attempt_at.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    attempts: log,
  };
}
