import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { JsonLogger } from '../common/logging/json-logger';
import { WebhookOutbox } from './webhook.outbox';
import { keyFacts } from './webhook-payloads';

/** Any constant unique to this job: the advisory lock that lets one replica sweep at a time. */
const SWEEP_LOCK = 0x7472_7573;
const BATCH = 500;

interface DueKey {
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

type NoticeKind = 'key.expiring' | 'key.overlap_ending';

/**
 * The time-driven events. `key.expiring` when a key's own expiry is WEBHOOK_EXPIRY_NOTICE_SECONDS
 * away, `key.overlap_ending` when a rotation overlap ends within WEBHOOK_OVERLAP_NOTICE_SECONDS,
 * both found with the database clock. A sweep runs under a transaction-level advisory lock (one
 * replica at a time), and a notice row keyed by (key, kind, threshold) is written in the same
 * transaction as the event, so each key and threshold is told exactly once; a changed expiry (a
 * rotation shortening it) is a new threshold and is told again. Keys of owners without a listening
 * endpoint are left for later, so an endpoint created inside the window still hears of them.
 */
@Injectable()
export class WebhookNoticeScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private first?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopping = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: JsonLogger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.webhooks.deliveryEnabled) return;
    this.timer = setInterval(() => void this.sweep().catch((e: Error) => this.logger.event('warn', 'webhook notice sweep failed', { err: e.message })), this.config.webhooks.schedulerIntervalMs);
    this.timer.unref();
    // A first sweep soon after start, so a long interval does not delay notices already due.
    this.first = setTimeout(() => void this.sweep().catch((e: Error) => this.logger.event('warn', 'webhook notice sweep failed', { err: e.message })), 1_000);
    this.first.unref();
  }

  /** Before the database closes, so a sweep in progress commits or rolls back whole. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    clearTimeout(this.first);
    await this.running?.catch(() => undefined);
  }

  /** One sweep; answers how many events it emitted (0 also when another replica holds the sweep). */
  sweep(): Promise<number> {
    if (this.stopping) return Promise.resolve(0);
    this.running ??= this.sweepOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepOnce(): Promise<number> {
    let total = 0;
    for (const kind of ['key.expiring', 'key.overlap_ending'] as const) {
      for (;;) {
        const emitted = await this.dataSource.transaction(async (manager) => {
          const [{ locked }] = await manager.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [SWEEP_LOCK]);
          if (!locked) return -1;
          return this.emit(manager, kind);
        });
        if (emitted < 0) return total;
        total += emitted;
        if (emitted < BATCH) break;
      }
    }
    return total;
  }

  private async emit(manager: EntityManager, kind: NoticeKind): Promise<number> {
    const [states, window] =
      kind === 'key.expiring' ? [`('ACTIVE', 'PAUSED')`, this.config.webhooks.expiryNoticeSeconds] : [`('PENDING_ROTATION')`, this.config.webhooks.overlapNoticeSeconds];
    const due: DueKey[] = await manager.query(
      `WITH due AS (
         SELECT k.id, k.instance_id, i.ref, k.name, k.key_prefix, k.key_hint, k.status, k.created_at, k.expires_at, k.rotated_at, k.replaces_key_id, k.replaced_by_key_id
           FROM instance_keys k JOIN instances i ON i.id = k.instance_id
          WHERE k.status IN ${states} AND k.expires_at > now() AND k.expires_at <= now() + $1::int * interval '1 second'
            AND NOT EXISTS (SELECT 1 FROM webhook_notices n WHERE n.key_id = k.id AND n.kind = $2 AND n.threshold_at = k.expires_at)
            AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.instance_id = k.instance_id AND e.enabled AND (e.events IS NULL OR $2 = ANY (e.events)))
          ORDER BY k.expires_at
          LIMIT $3),
       noted AS (
         INSERT INTO webhook_notices (key_id, kind, threshold_at) SELECT id, $2, expires_at FROM due ON CONFLICT DO NOTHING RETURNING key_id)
       SELECT due.* FROM due JOIN noted ON noted.key_id = due.id`,
      [window, kind, BATCH],
    );
    for (const k of due) {
      const status = k.status;
      await WebhookOutbox.enqueue(manager, {
        owner: { instanceId: k.instance_id },
        type: kind,
        data: {
          instance: { id: k.instance_id, instanceRef: k.ref },
          key: keyFacts({
            id: k.id,
            name: k.name,
            keyPrefix: k.key_prefix,
            keyHint: k.key_hint,
            status,
            createdAt: k.created_at.toISOString(),
            expiresAt: k.expires_at.toISOString(),
            rotatedAt: k.rotated_at?.toISOString() ?? null,
            replacesKeyId: k.replaces_key_id,
            replacedByKeyId: k.replaced_by_key_id,
          }),
          [kind === 'key.expiring' ? 'expiresAt' : 'overlapEndsAt']: k.expires_at.toISOString(),
        },
      });
    }
    return due.length;
  }
}
