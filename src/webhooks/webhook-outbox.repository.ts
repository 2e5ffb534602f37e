import type { EntityManager } from 'typeorm';
import { execute, firstRow, rows } from '../database/sql';
import type { WebhookEventType, WebhookOwner } from './webhook-events';

export interface WebhookEventInput {
  owner: WebhookOwner;
  type: WebhookEventType;
  /** Ids, names, states and times only: never a secret, digest or client address. */
  data: Record<string, unknown>;
}

export interface EnqueuedEvent {
  /** null when no endpoint of the owner listens to the type: nothing is written then. */
  eventId: string | null;
  deliveries: number;
}

/**
 * The transactional outbox. `enqueue` is called with the manager of the transaction that makes the
 * change (every feature's, so it takes it as a parameter rather than through Transactions), so the event and its deliveries (one per enabled endpoint of the owner subscribed to the
 * type) commit or roll back with it: a crash after commit loses nothing, a rollback sends nothing.
 * The delivery worker sends them after commit. The body is fixed here, so every retry sends the
 * very same bytes under the same `webhook-id`.
 */
export class WebhookOutbox {
  static async enqueue(manager: EntityManager, event: WebhookEventInput, onlyEndpointId?: string): Promise<EnqueuedEvent> {
    const [instanceId, developerId] = 'instanceId' in event.owner ? [event.owner.instanceId, null] : [null, event.owner.developerId];
    // One indexed read on the owner's column: an owner without endpoints (most) costs no more.
    const ownerColumn = instanceId ? 'instance_id' : 'developer_id';
    const endpoints = await rows<{ id: string }>(
      manager,
      `SELECT e.id FROM webhook_endpoints e
        WHERE e.${ownerColumn} = $1 AND e.enabled
          AND ($3::uuid IS NULL OR e.id = $3)
          AND (e.events IS NULL OR $2 = ANY (e.events) OR $3::uuid IS NOT NULL)`,
      [instanceId ?? developerId, event.type, onlyEndpointId ?? null],
    );
    if (endpoints.length === 0) return { eventId: null, deliveries: 0 };
    const { id, at } = (await firstRow<{ id: string; at: Date }>(manager, `SELECT gen_random_uuid() AS id, now() AS at`))!;
    const body = JSON.stringify({ type: event.type, timestamp: new Date(at).toISOString(), data: event.data });
    await execute(
      manager,
      `INSERT INTO webhook_events (id, instance_id, developer_id, type, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [id, instanceId, developerId, event.type, body, at],
    );
    await execute(manager, `INSERT INTO webhook_deliveries (event_id, endpoint_id) SELECT $1, unnest($2::uuid[])`, [
      id,
      endpoints.map((e) => e.id),
    ]);
    return { eventId: id, deliveries: endpoints.length };
  }

  /**
   * Many events in one transaction (a containment or a break-glass revocation can name a thousand
   * keys, and most owners have no endpoint): the owners that have an enabled endpoint are found in
   * one query, and only their events go through `enqueue`.
   */
  static async enqueueMany(manager: EntityManager, events: WebhookEventInput[]): Promise<void> {
    if (events.length === 0) return;
    const instanceIds = [...new Set(events.flatMap((e) => ('instanceId' in e.owner ? [e.owner.instanceId] : [])))];
    const developerIds = [...new Set(events.flatMap((e) => ('developerId' in e.owner ? [e.owner.developerId] : [])))];
    const listening = await rows<{ owner: string }>(
      manager,
      `SELECT DISTINCT COALESCE(instance_id, developer_id)::text AS owner FROM webhook_endpoints
        WHERE enabled AND (instance_id = ANY($1::uuid[]) OR developer_id = ANY($2::uuid[]))`,
      [instanceIds, developerIds],
    );
    const owners = new Set(listening.map((l) => l.owner));
    for (const event of events) {
      if (owners.has('instanceId' in event.owner ? event.owner.instanceId : event.owner.developerId))
        await WebhookOutbox.enqueue(manager, event);
    }
  }
}
