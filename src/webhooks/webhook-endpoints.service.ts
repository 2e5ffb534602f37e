import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../domain/actor';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { isoOrNull } from '../common/http/iso-date';
import { Page } from '../common/http/page';
import { Transactions } from '../database/transactions';
import { eventTypesOf, WebhookOwner } from './webhook-events';
import {
  CreateWebhookDto,
  DeletedWebhookDto,
  ListDeliveriesQueryDto,
  UpdateWebhookDto,
  WebhookDeliveryDto,
  WebhookEndpointDto,
  WebhookEndpointWithSecretDto,
  WebhookTestDto,
} from './webhook.dto';
import { WebhookOutbox } from './webhook-outbox.repository';
import { DeliveryRow, EndpointRow, WebhookRepository } from './webhook.repository';
import { messageIdOf, newSigningKey, secretOf } from './webhook.signature';
import { refuseUrl } from './webhook-target.guard';

/** How long the previous secret keeps signing after a rotation (SPEC §14). */
export const SECRET_OVERLAP_SECONDS = 86_400;

/**
 * Whose endpoints a request may touch. The admin names an instance by ref; an instance key is bound
 * to its instance (and must still be ACTIVE when the change commits); a developer to the account.
 */
export type WebhookScope = { instanceRef: string } | { instanceId: string; actingKeyId?: string } | { developerId: string };

function toDto(row: EndpointRow): WebhookEndpointDto {
  const previousLive = row.previous_key_expires_at && row.previous_key_expires_at > row.now;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    previousSecretExpiresAt: previousLive ? isoOrNull(row.previous_key_expires_at) : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const notFound = () => new AppException('NOT_FOUND', 'Webhook endpoint not found.');

@Injectable()
export class WebhookEndpointsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tx: Transactions,
    private readonly endpoints: WebhookRepository,
    private readonly audit: AuditService,
  ) {}

  async list(scope: WebhookScope, limit: number, offset: number): Promise<Page<WebhookEndpointDto>> {
    const owner = await this.owner(scope, false);
    const total = await this.endpoints.count(owner);
    const rows = await this.endpoints.list(owner, limit, offset);
    return new Page(rows.map(toDto), total, limit, offset);
  }

  async get(scope: WebhookScope, endpointId: string): Promise<WebhookEndpointDto> {
    return toDto(await this.endpoint(await this.owner(scope, false), endpointId, false));
  }

  async create(scope: WebhookScope, body: CreateWebhookDto, actor: Actor): Promise<WebhookEndpointWithSecretDto> {
    this.checkUrl(body.url);
    return this.change(scope, async (owner) => {
      this.checkEvents(owner, body.events);
      const cap = this.config.webhooks.maxEndpointsPerOwner;
      if ((await this.endpoints.count(owner)) >= cap)
        throw new AppException('WEBHOOK_LIMIT_REACHED', `At most ${cap} webhook endpoints are allowed.`);
      const key = newSigningKey();
      const row = await this.endpoints.insert(owner, body.url, body.description ?? null, body.events ?? null, key);
      await this.record(owner, actor, 'webhook.created', row.id, { url: row.url, events: row.events });
      return { ...toDto(row), secret: secretOf(key) };
    });
  }

  async update(scope: WebhookScope, endpointId: string, body: UpdateWebhookDto, actor: Actor): Promise<WebhookEndpointDto> {
    if (body.url === undefined && body.events === undefined && body.enabled === undefined && body.description === undefined) {
      throw new AppException('VALIDATION_ERROR', 'Nothing to update: send url, events, enabled and/or description.', {
        body: ['must contain url, events, enabled or description'],
      });
    }
    if (body.url !== undefined) this.checkUrl(body.url);
    return this.change(scope, async (owner) => {
      const current = await this.endpoint(owner, endpointId, true);
      if (body.events !== undefined) this.checkEvents(owner, body.events);
      const updated = await this.endpoints.update(current.id, {
        url: body.url,
        events: body.events,
        enabled: body.enabled,
        description: body.description,
      });
      if (body.enabled === false) await this.endpoints.cancelPending(current.id, 'endpoint disabled');
      const changed = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
      await this.record(owner, actor, 'webhook.updated', current.id, changed);
      return toDto(updated);
    });
  }

  delete(scope: WebhookScope, endpointId: string, actor: Actor): Promise<DeletedWebhookDto> {
    return this.change(scope, async (owner) => {
      const current = await this.endpoint(owner, endpointId, true);
      await this.endpoints.delete(current.id);
      await this.record(owner, actor, 'webhook.deleted', current.id, { url: current.url });
      return { id: current.id, deleted: true as const };
    });
  }

  /** A new secret; the previous one keeps signing beside it for 24 h, so receivers can switch without a gap. */
  rotateSecret(scope: WebhookScope, endpointId: string, actor: Actor): Promise<WebhookEndpointWithSecretDto> {
    return this.change(scope, async (owner) => {
      const current = await this.endpoint(owner, endpointId, true);
      const key = newSigningKey();
      const rotated = await this.endpoints.rotateKey(current.id, key, SECRET_OVERLAP_SECONDS);
      await this.record(owner, actor, 'webhook.secret_rotated', current.id);
      return { ...toDto(rotated), secret: secretOf(key) };
    });
  }

  /** Queues a `webhook.test` event for this endpoint alone (whatever its event filter). */
  test(scope: WebhookScope, endpointId: string, actor: Actor): Promise<WebhookTestDto> {
    return this.change(scope, async (owner) => {
      const current = await this.endpoint(owner, endpointId, true);
      if (!current.enabled) throw new AppException('CONFLICT', 'The endpoint is disabled; enable it first.');
      const { eventId } = await WebhookOutbox.enqueue(
        this.tx.manager,
        { owner, type: 'webhook.test', data: { endpointId: current.id, message: 'This is a test event from the Trusset key service.' } },
        current.id,
      );
      const deliveryId = await this.endpoints.deliveryOf(eventId!, current.id);
      await this.record(owner, actor, 'webhook.test_sent', current.id, { eventId });
      return { eventId: eventId!, deliveryId, webhookId: messageIdOf(eventId!) };
    });
  }

  async deliveries(scope: WebhookScope, endpointId: string, query: ListDeliveriesQueryDto): Promise<Page<WebhookDeliveryDto>> {
    const endpoint = await this.endpoint(await this.owner(scope, false), endpointId, false);
    const { rows, total } = await this.endpoints.deliveries(endpoint.id, query.status, query.limit, query.offset);
    return new Page(rows.map(deliveryDto), total, query.limit, query.offset);
  }

  /** Queues the delivery again now, under the same `webhook-id`; an attempt in flight is not doubled. */
  retry(scope: WebhookScope, endpointId: string, deliveryId: string, actor: Actor): Promise<WebhookDeliveryDto> {
    return this.change(scope, async (owner) => {
      const endpoint = await this.endpoint(owner, endpointId, true);
      if (!endpoint.enabled) throw new AppException('CONFLICT', 'The endpoint is disabled; enable it first.');
      if (!(await this.endpoints.requeue(deliveryId, endpoint.id))) {
        if (!(await this.endpoints.deliveryExists(deliveryId, endpoint.id))) throw new AppException('NOT_FOUND', 'Delivery not found.');
        throw new AppException('CONFLICT', 'An attempt of this delivery is in flight.');
      }
      await this.record(owner, actor, 'webhook.delivery_retried', endpoint.id, { deliveryId });
      return deliveryDto(await this.endpoints.delivery(deliveryId));
    });
  }

  /** Every endpoint change is in the owner's audit trail (never the secret). */
  private record(owner: WebhookOwner, actor: Actor, action: string, endpointId: string, details?: Record<string, unknown>): Promise<void> {
    const tenant = 'instanceId' in owner ? { instanceId: owner.instanceId } : { developerId: owner.developerId };
    return this.audit.record({ action, target: { type: 'webhook', id: endpointId }, ...tenant, details }, actor, this.tx.manager);
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
      throw new AppException('VALIDATION_ERROR', 'These events are not available here.', {
        events: [`not available for this endpoint: ${wrong.join(', ')}`],
      });
    }
  }

  /**
   * A change of an owner's endpoints: a transaction holding the owner row's lock (which serialises
   * the endpoint cap), and for an instance key, a re-check that the acting key is still ACTIVE
   * under that lock, so a request in flight when its key is revoked, paused or rotated changes nothing.
   */
  private change<T>(scope: WebhookScope, work: (owner: WebhookOwner) => Promise<T>): Promise<T> {
    return this.tx.run(async () => work(await this.owner(scope, true)));
  }

  private async owner(scope: WebhookScope, lock: boolean): Promise<WebhookOwner> {
    if ('developerId' in scope) {
      const id = await this.endpoints.developerOwner(scope.developerId, lock);
      if (!id) throw new AppException('INVALID_TOKEN');
      return { developerId: id };
    }
    const id = await this.endpoints.instanceOwner('instanceRef' in scope ? { ref: scope.instanceRef } : { id: scope.instanceId }, lock);
    if (!id) throw new AppException('NOT_FOUND', 'Instance not found.');
    if (lock && 'actingKeyId' in scope && scope.actingKeyId && (await this.endpoints.keyStatus(scope.actingKeyId, id)) !== 'ACTIVE') {
      throw new AppException('AUTH_FAILED');
    }
    return { instanceId: id };
  }

  private async endpoint(owner: WebhookOwner, endpointId: string, lock: boolean): Promise<EndpointRow> {
    const row = await this.endpoints.endpoint(owner, endpointId, lock);
    if (!row) throw notFound();
    return row;
  }
}

function deliveryDto(row: DeliveryRow): WebhookDeliveryDto {
  const log = row.log.map((a) => ({ ...a, at: new Date(a.at).toISOString(), nextAttemptAt: isoOrNull(a.nextAttemptAt) }));
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
    nextAttemptAt: row.status === 'PENDING' ? isoOrNull(row.next_attempt_at) : null,
    createdAt: row.created_at.toISOString(),
    attempts: log,
  };
}
