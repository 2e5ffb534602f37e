import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { JsonLogger } from '../common/logging/json-logger';
import { isoOrNull } from '../common/http/iso-date';
import { Transactions } from '../database/transactions';
import { NoticeKind, WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookOutbox } from './webhook-outbox.repository';
import { keyFacts } from './webhook-payloads';

const BATCH = 500;

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
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tx: Transactions,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly logger: JsonLogger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.webhooks.deliveryEnabled) return;
    this.timer = setInterval(
      () => void this.sweep().catch((e: Error) => this.logger.event('warn', 'webhook notice sweep failed', { err: e.message })),
      this.config.webhooks.schedulerIntervalMs,
    );
    this.timer.unref();
    // A first sweep soon after start, so a long interval does not delay notices already due.
    this.first = setTimeout(
      () => void this.sweep().catch((e: Error) => this.logger.event('warn', 'webhook notice sweep failed', { err: e.message })),
      1_000,
    );
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
        const emitted = await this.tx.run(async () => {
          if (!(await this.deliveries.tryLockSweep())) return -1;
          return this.emit(kind);
        });
        if (emitted < 0) return total;
        total += emitted;
        if (emitted < BATCH) break;
      }
    }
    return total;
  }

  private async emit(kind: NoticeKind): Promise<number> {
    const window = kind === 'key.expiring' ? this.config.webhooks.expiryNoticeSeconds : this.config.webhooks.overlapNoticeSeconds;
    const due = await this.deliveries.noteDueKeys(kind, window, BATCH);
    for (const k of due) {
      const status = k.status;
      await WebhookOutbox.enqueue(this.tx.manager, {
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
            rotatedAt: isoOrNull(k.rotated_at),
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
