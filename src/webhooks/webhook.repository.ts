import { Injectable } from '@nestjs/common';
import { execute, firstRow, rows } from '../database/sql';
import { Transactions } from '../database/transactions';
import { effectiveStatusSql } from '../domain/instance-key.state';
import type { WebhookOwner } from './webhook-events';

export interface EndpointRow {
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

export interface DeliveryRow {
  id: string;
  event_id: string;
  type: string;
  status: string;
  attempts: number;
  last_response_status: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  created_at: Date;
  log: Array<{
    attempt: number;
    status: string;
    responseStatus: number | null;
    error: string | null;
    at: string;
    durationMs: number;
    nextAttemptAt: string | null;
  }>;
}

export interface EndpointChanges {
  url?: string;
  /** undefined leaves the filter as it is; null subscribes to every event. */
  events?: string[] | null;
  enabled?: boolean;
  description?: string;
}

const ENDPOINT_COLUMNS = `e.id, e.url, e.description, e.events, e.enabled, e.disabled_reason, e.previous_key_expires_at, e.created_at, e.updated_at, now() AS now`;

/** A delivery with every attempt made of it, oldest first. */
const DELIVERY_SELECT = `SELECT d.id, d.event_id, ev.type, d.status, d.attempts, d.last_response_status, d.last_error, d.next_attempt_at, d.created_at,
              COALESCE((SELECT json_agg(json_build_object('attempt', a.attempt, 'status', a.outcome, 'responseStatus', a.response_status, 'error', a.error,
                                                          'at', a.at, 'durationMs', a.duration_ms, 'nextAttemptAt', a.next_attempt_at) ORDER BY a.attempt)
                          FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]'::json) AS log
         FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id`;

const ownerColumn = (owner: WebhookOwner) =>
  'instanceId' in owner ? ['instance_id', owner.instanceId] : ['developer_id', owner.developerId];

/** The SQL of webhook endpoints and their delivery logs, as their owners manage them. */
@Injectable()
export class WebhookRepository {
  constructor(private readonly tx: Transactions) {}

  /** The developer account's id, its row locked FOR UPDATE when `lock` (which serialises the endpoint cap). */
  async developerOwner(developerId: string, lock: boolean): Promise<string | undefined> {
    const row = await firstRow<{ id: string }>(
      this.tx.manager,
      `SELECT id FROM mica_developers WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [developerId],
    );
    return row?.id;
  }

  /** The instance's id (named by ref or id), its row locked FOR UPDATE when `lock`. */
  async instanceOwner(by: { ref: string } | { id: string }, lock: boolean): Promise<string | undefined> {
    const [column, value] = 'ref' in by ? ['ref', by.ref] : ['id', by.id];
    const row = await firstRow<{ id: string }>(
      this.tx.manager,
      `SELECT id FROM instances WHERE ${column} = $1${lock ? ' FOR UPDATE' : ''}`,
      [value],
    );
    return row?.id;
  }

  /** The acting key's effective status now, in the changing transaction; undefined when it is not the instance's. */
  async keyStatus(keyId: string, instanceId: string): Promise<string | undefined> {
    const row = await firstRow<{ status: string }>(
      this.tx.manager,
      `SELECT ${effectiveStatusSql('k')} AS status FROM instance_keys k WHERE k.id = $1 AND k.instance_id = $2`,
      [keyId, instanceId],
    );
    return row?.status;
  }

  async count(owner: WebhookOwner): Promise<number> {
    const [column, id] = ownerColumn(owner);
    const [{ total }] = await rows<{ total: number }>(
      this.tx.manager,
      `SELECT count(*)::int AS total FROM webhook_endpoints WHERE ${column} = $1`,
      [id],
    );
    return total;
  }

  list(owner: WebhookOwner, limit: number, offset: number): Promise<EndpointRow[]> {
    const [column, id] = ownerColumn(owner);
    return rows<EndpointRow>(
      this.tx.manager,
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.${column} = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT $2 OFFSET $3`,
      [id, limit, offset],
    );
  }

  /** The owner's endpoint, its row locked FOR UPDATE when `lock`. */
  endpoint(owner: WebhookOwner, endpointId: string, lock: boolean): Promise<EndpointRow | undefined> {
    const [column, id] = ownerColumn(owner);
    return firstRow<EndpointRow>(
      this.tx.manager,
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.id = $1 AND e.${column} = $2${lock ? ' FOR UPDATE' : ''}`,
      [endpointId, id],
    );
  }

  async insert(
    owner: WebhookOwner,
    url: string,
    description: string | null,
    events: string[] | null,
    signingKey: Buffer,
  ): Promise<EndpointRow> {
    const [column, id] = ownerColumn(owner);
    const row = await firstRow<EndpointRow>(
      this.tx.manager,
      `INSERT INTO webhook_endpoints AS e (${column}, url, description, events, signing_key) VALUES ($1, $2, $3, $4, $5) RETURNING ${ENDPOINT_COLUMNS}`,
      [id, url, description, events, signingKey],
    );
    return row!;
  }

  /** Disabling records that its owner did it; enabling clears the reason. */
  async update(endpointId: string, changes: EndpointChanges): Promise<EndpointRow> {
    const row = await firstRow<EndpointRow>(
      this.tx.manager,
      `UPDATE webhook_endpoints AS e SET
         url = COALESCE($2, url),
         events = CASE WHEN $3::boolean THEN $4::text[] ELSE events END,
         enabled = COALESCE($5, enabled),
         disabled_reason = CASE WHEN $5::boolean IS NULL THEN disabled_reason WHEN $5 THEN NULL ELSE 'disabled by its owner' END,
         description = COALESCE($6, description),
         updated_at = now()
       WHERE id = $1
       RETURNING ${ENDPOINT_COLUMNS}`,
      [
        endpointId,
        changes.url ?? null,
        changes.events !== undefined,
        changes.events ?? null,
        changes.enabled ?? null,
        changes.description ?? null,
      ],
    );
    return row!;
  }

  /** Its deliveries and attempts go with it (ON DELETE CASCADE): nothing more is sent. */
  async delete(endpointId: string): Promise<void> {
    await execute(this.tx.manager, `DELETE FROM webhook_endpoints WHERE id = $1`, [endpointId]);
  }

  /** A new signing key; the previous one keeps signing beside it for `overlapSeconds`. */
  async rotateKey(endpointId: string, signingKey: Buffer, overlapSeconds: number): Promise<EndpointRow> {
    const row = await firstRow<EndpointRow>(
      this.tx.manager,
      `UPDATE webhook_endpoints AS e SET previous_signing_key = signing_key, previous_key_expires_at = now() + $3::int * interval '1 second',
              signing_key = $2, updated_at = now() WHERE id = $1
       RETURNING ${ENDPOINT_COLUMNS}`,
      [endpointId, signingKey, overlapSeconds],
    );
    return row!;
  }

  async cancelPending(endpointId: string, reason: string): Promise<void> {
    await execute(
      this.tx.manager,
      `UPDATE webhook_deliveries SET status = 'CANCELLED', next_attempt_at = NULL, last_error = $2, updated_at = now() WHERE endpoint_id = $1 AND status = 'PENDING'`,
      [endpointId, reason],
    );
  }

  async deliveryOf(eventId: string, endpointId: string): Promise<string> {
    const row = await firstRow<{ id: string }>(
      this.tx.manager,
      `SELECT id FROM webhook_deliveries WHERE event_id = $1 AND endpoint_id = $2`,
      [eventId, endpointId],
    );
    return row!.id;
  }

  /** The endpoint's deliveries (of one status when given), newest first, and how many there are. */
  async deliveries(
    endpointId: string,
    status: string | undefined,
    limit: number,
    offset: number,
  ): Promise<{ rows: DeliveryRow[]; total: number }> {
    const params: unknown[] = [endpointId];
    let filter = '';
    if (status) {
      params.push(status);
      filter = ` AND d.status = $2`;
    }
    const [{ total }] = await rows<{ total: number }>(
      this.tx.manager,
      `SELECT count(*)::int AS total FROM webhook_deliveries d WHERE d.endpoint_id = $1${filter}`,
      params,
    );
    const found = await rows<DeliveryRow>(
      this.tx.manager,
      `${DELIVERY_SELECT}
        WHERE d.endpoint_id = $1${filter}
        ORDER BY d.created_at DESC, d.id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    );
    return { rows: found, total };
  }

  async delivery(deliveryId: string): Promise<DeliveryRow> {
    const row = await firstRow<DeliveryRow>(this.tx.manager, `${DELIVERY_SELECT} WHERE d.id = $1`, [deliveryId]);
    return row!;
  }

  /** Due again now, unless an attempt holds its lease; false when that or no such delivery. */
  async requeue(deliveryId: string, endpointId: string): Promise<boolean> {
    const { affected } = await execute(
      this.tx.manager,
      `UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = now(), updated_at = now()
        WHERE id = $1 AND endpoint_id = $2 AND (lease_until IS NULL OR lease_until <= now())`,
      [deliveryId, endpointId],
    );
    return affected > 0;
  }

  async deliveryExists(deliveryId: string, endpointId: string): Promise<boolean> {
    const found = await rows(this.tx.manager, `SELECT 1 FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2`, [
      deliveryId,
      endpointId,
    ]);
    return found.length > 0;
  }
}
