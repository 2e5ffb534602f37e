import { Injectable } from '@nestjs/common';
import { execute, firstRow, rows } from '../database/sql';
import { Transactions } from '../database/transactions';

export interface ClaimedDelivery {
  id: string;
  attempts: number;
  endpoint_id: string;
  url: string;
  signing_key: Buffer;
  previous_key: Buffer | null;
  event_id: string;
  body: string;
}

export interface AttemptOutcome {
  /** PENDING (retried in `retryInSeconds`), DELIVERED or FAILED. */
  status: string;
  retryInSeconds: number;
  outcome: string;
  responseStatus: number | null;
  error: string | null;
  durationMs: number;
}

export interface DueKey {
  id: string;
  instance_id: string;
  ref: string;
  name: string;
  key_prefix: string;
  key_hint: string;
  status: string;
  created_at: Date;
  expires_at: Date;
  rotated_at: Date | null;
  replaces_key_id: string | null;
  replaced_by_key_id: string | null;
}

export type NoticeKind = 'key.expiring' | 'key.overlap_ending';

/** The key states each notice is about: a key's own expiry, or the end of a rotation overlap. */
const NOTICE_STATES: Record<NoticeKind, string> = { 'key.expiring': `('ACTIVE', 'PAUSED')`, 'key.overlap_ending': `('PENDING_ROTATION')` };

/** Any constant unique to this job: the advisory lock that lets one replica sweep at a time. */
const SWEEP_LOCK = 0x7472_7573;

/** The SQL of sending what the outbox holds: claims, attempts, notices, pruning, the queue's gauges. */
@Injectable()
export class WebhookDeliveryRepository {
  constructor(private readonly tx: Transactions) {}

  /**
   * Claims up to `limit` due deliveries in one statement (`FOR UPDATE SKIP LOCKED`, then a lease and
   * the attempt number written), skipping endpoints that have an attempt in flight.
   */
  claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return rows<ClaimedDelivery>(
      this.tx.manager,
      `WITH picked AS (
         SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
          WHERE d.status = 'PENDING' AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until <= now()) AND e.enabled
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries b WHERE b.endpoint_id = d.endpoint_id AND b.status = 'PENDING' AND b.lease_until > now())
          ORDER BY d.next_attempt_at, d.id
          LIMIT $1
          FOR UPDATE OF d SKIP LOCKED)
       UPDATE webhook_deliveries d SET attempts = d.attempts + 1, lease_until = now() + $2::int * interval '1 millisecond', updated_at = now()
         FROM picked, webhook_endpoints e, webhook_events ev
        WHERE d.id = picked.id AND e.id = d.endpoint_id AND ev.id = d.event_id
       RETURNING d.id, d.attempts, d.endpoint_id, e.url, e.signing_key,
                 CASE WHEN e.previous_key_expires_at > now() THEN e.previous_signing_key END AS previous_key, ev.id AS event_id, ev.body`,
      [limit, leaseMs],
    );
  }

  /**
   * The attempt's outcome, with a compare-and-set on the attempt number: a lease that ran out (a
   * stalled process) cannot overwrite a later attempt. False when a later attempt won.
   */
  async recordAttempt(d: ClaimedDelivery, o: AttemptOutcome): Promise<boolean> {
    const updated = await firstRow<{ next_attempt_at: Date | null }>(
      this.tx.manager,
      `UPDATE webhook_deliveries SET status = CASE WHEN status = 'PENDING' THEN $3 ELSE status END,
              next_attempt_at = CASE WHEN status = 'PENDING' AND $3 = 'PENDING' THEN now() + $4::float8 * interval '1 second' ELSE NULL END,
              lease_until = NULL, last_response_status = $5, last_error = $6, updated_at = now()
        WHERE id = $1 AND attempts = $2
      RETURNING next_attempt_at`,
      [d.id, d.attempts, o.status, o.retryInSeconds, o.responseStatus, o.error],
    );
    if (!updated) return false;
    await execute(
      this.tx.manager,
      `INSERT INTO webhook_attempts (delivery_id, attempt, outcome, response_status, error, duration_ms, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (delivery_id, attempt) DO NOTHING`,
      [d.id, d.attempts, o.outcome, o.responseStatus, o.error, o.durationMs, updated.next_attempt_at],
    );
    return true;
  }

  /** An endpoint whose receiver answered 410 Gone: disabled, and what it had pending cancelled. */
  async disableGone(endpointId: string, deliveryId: string): Promise<void> {
    await execute(
      this.tx.manager,
      `UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1 AND enabled`,
      [endpointId, `the receiver answered 410 Gone (delivery ${deliveryId})`],
    );
    await execute(
      this.tx.manager,
      `UPDATE webhook_deliveries SET status = 'CANCELLED', next_attempt_at = NULL, last_error = 'endpoint disabled after 410 Gone', updated_at = now()
        WHERE endpoint_id = $1 AND status = 'PENDING'`,
      [endpointId],
    );
  }

  /** Deletes up to `batch` events older than `days` (their deliveries and attempts cascade); answers how many. */
  async pruneEvents(days: number, batch: number): Promise<number> {
    const { affected } = await execute(
      this.tx.manager,
      `DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events WHERE created_at < now() - $1::int * interval '1 day' LIMIT $2)`,
      [days, batch],
    );
    return affected;
  }

  async pruneNotices(days: number): Promise<void> {
    await execute(this.tx.manager, `DELETE FROM webhook_notices WHERE threshold_at < now() - $1::int * interval '1 day'`, [days]);
  }

  /** Deployment-wide: deliveries pending, and the age of the oldest in seconds (0 when none). */
  async queue(): Promise<{ depth: number; age: number }> {
    const row = await firstRow<{ depth: number; age: number }>(
      this.tx.manager,
      `SELECT count(*)::int AS depth, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS age FROM webhook_deliveries WHERE status = 'PENDING'`,
    );
    return row!;
  }

  /** The sweep's transaction-level advisory lock: false while another replica sweeps. */
  async tryLockSweep(): Promise<boolean> {
    const row = await firstRow<{ locked: boolean }>(this.tx.manager, `SELECT pg_try_advisory_xact_lock($1) AS locked`, [SWEEP_LOCK]);
    return row!.locked;
  }

  /**
   * Up to `limit` keys `kind` is about whose expiry is within `windowSeconds`, not yet told of at that
   * threshold, of instances with an endpoint listening to `kind`; their notice rows are written in
   * the same statement, so each key and threshold is answered once.
   */
  noteDueKeys(kind: NoticeKind, windowSeconds: number, limit: number): Promise<DueKey[]> {
    return rows<DueKey>(
      this.tx.manager,
      `WITH due AS (
         SELECT k.id, k.instance_id, i.ref, k.name, k.key_prefix, k.key_hint, k.status, k.created_at, k.expires_at, k.rotated_at, k.replaces_key_id, k.replaced_by_key_id
           FROM instance_keys k JOIN instances i ON i.id = k.instance_id
          WHERE k.status IN ${NOTICE_STATES[kind]} AND k.expires_at > now() AND k.expires_at <= now() + $1::int * interval '1 second'
            AND NOT EXISTS (SELECT 1 FROM webhook_notices n WHERE n.key_id = k.id AND n.kind = $2 AND n.threshold_at = k.expires_at)
            AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.instance_id = k.instance_id AND e.enabled AND (e.events IS NULL OR $2 = ANY (e.events)))
          ORDER BY k.expires_at
          LIMIT $3),
       noted AS (
         INSERT INTO webhook_notices (key_id, kind, threshold_at) SELECT id, $2, expires_at FROM due ON CONFLICT DO NOTHING RETURNING key_id)
       SELECT due.* FROM due JOIN noted ON noted.key_id = due.id`,
      [windowSeconds, kind, limit],
    );
  }
}
