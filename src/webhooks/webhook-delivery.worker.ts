import { randomInt } from 'node:crypto';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { JsonLogger } from '../common/logging/json-logger';
import { Transactions } from '../database/transactions';
import { ClaimedDelivery, WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookMetrics } from './webhook.metrics';
import { sendWebhook, SendResult } from './webhook-sender';
import { messageIdOf, signatureHeader } from './webhook.signature';

/** A lease outlives the attempt's own bound by this much, so a live attempt is never taken over. */
const LEASE_MARGIN_MS = 30_000;
const PRUNE_INTERVAL_MS = 3_600_000;
const PRUNE_BATCH = 1000;

/**
 * Sends what the outbox holds. Every replica polls; an attempt is claimed in one statement (`FOR
 * UPDATE SKIP LOCKED`, then a lease and the attempt number written), so each attempt is made by one
 * replica only, and a replica that dies mid-attempt leaves a lease that runs out, after which
 * another one retries it (at least once). An endpoint with an attempt in flight is skipped until it
 * ends, so a hanging receiver holds one slot for at most WEBHOOK_TIMEOUT_MS and never delays
 * another endpoint's deliveries.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly inFlight = new Set<Promise<void>>();
  private pollTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private firstPrune?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tx: Transactions,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly metrics: WebhookMetrics,
    private readonly logger: JsonLogger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.webhooks.deliveryEnabled) return;
    this.pollTimer = setInterval(() => this.poll(), this.config.webhooks.pollIntervalMs);
    this.pollTimer.unref();
    // What an earlier process committed but did not send (it crashed, or stopped) goes out at once.
    setImmediate(() => this.poll());
    this.pruneTimer = setInterval(
      () => void this.prune().catch((e: Error) => this.logger.event('warn', 'webhook prune failed', { err: e.message })),
      PRUNE_INTERVAL_MS,
    );
    this.pruneTimer.unref();
    this.firstPrune = setTimeout(
      () => void this.prune().catch((e: Error) => this.logger.event('warn', 'webhook prune failed', { err: e.message })),
      5_000,
    );
    this.firstPrune.unref();
  }

  /**
   * Before the database closes: nothing new is claimed, and attempts in flight may finish and be
   * recorded within half the shutdown budget. One that takes longer is left to its lease: it is made
   * again once the lease runs out (by another replica, or this one after a restart).
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.pruneTimer);
    clearTimeout(this.firstPrune);
    await this.polling;
    let budget: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((r) => {
        budget = setTimeout(r, this.config.http.shutdownTimeoutMs / 2);
        budget.unref();
      }),
    ]);
    clearTimeout(budget);
  }

  /** Looks for due deliveries now (also called when an attempt ends, so a backlog drains without waiting a tick). */
  poll(): void {
    if (this.stopped || !this.config.webhooks.deliveryEnabled) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = this.claimAndSend()
      .catch((e: Error) => this.logger.event('warn', 'webhook poll failed', { err: e.message }))
      .finally(() => {
        this.polling = undefined;
        if (this.again) {
          this.again = false;
          this.poll();
        }
      });
  }

  private async claimAndSend(): Promise<void> {
    const free = this.config.webhooks.concurrency - this.inFlight.size;
    if (free <= 0) return;
    const claimed = await this.deliveries.claim(free, this.config.webhooks.timeoutMs + LEASE_MARGIN_MS);
    for (const delivery of claimed) {
      const job: Promise<void> = this.attempt(delivery)
        .catch((e: Error) =>
          this.logger.event('warn', 'webhook attempt could not be recorded', { deliveryId: delivery.id, err: e.message }),
        )
        .finally(() => {
          this.inFlight.delete(job);
          this.poll();
        });
      this.inFlight.add(job);
    }
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    const messageId = messageIdOf(d.event_id);
    const timestamp = Math.floor(Date.now() / 1000);
    const keys = d.previous_key ? [d.signing_key, d.previous_key] : [d.signing_key];
    const result = await sendWebhook(
      d.url,
      {
        'webhook-id': messageId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader(keys, messageId, timestamp, d.body),
      },
      d.body,
      { ...this.config.webhooks, timeoutMs: this.config.webhooks.timeoutMs },
    );
    await this.record(d, result);
  }

  /** The attempt's outcome: delivered, gone (410 disables the endpoint), or the next retry by the schedule. */
  private async record(d: ClaimedDelivery, result: SendResult): Promise<void> {
    const gone = result.responseStatus === 410;
    const schedule = this.config.webhooks.retryScheduleSeconds;
    const retryIn = result.outcome !== 'DELIVERED' && !gone && d.attempts <= schedule.length ? jitter(schedule[d.attempts - 1]) : null;
    const status = result.outcome === 'DELIVERED' ? 'DELIVERED' : retryIn !== null ? 'PENDING' : 'FAILED';
    const error = gone ? 'receiver answered 410 Gone: endpoint disabled' : result.error;
    await this.tx.run(async () => {
      const recorded = await this.deliveries.recordAttempt(d, {
        status,
        retryInSeconds: retryIn ?? 0,
        outcome: result.outcome,
        responseStatus: result.responseStatus,
        error,
        durationMs: result.durationMs,
      });
      if (recorded && gone) await this.deliveries.disableGone(d.endpoint_id, d.id);
    });
    this.metrics.deliveries.inc({
      outcome: gone
        ? 'gone'
        : result.outcome === 'DELIVERED'
          ? 'delivered'
          : status === 'PENDING'
            ? `${result.outcome.toLowerCase()}_retrying`
            : result.outcome.toLowerCase(),
    });
    if (result.outcome !== 'DELIVERED') {
      this.logger.event('info', 'webhook attempt failed', {
        deliveryId: d.id,
        endpointId: d.endpoint_id,
        attempt: d.attempts,
        status: result.responseStatus,
        error,
        willRetry: status === 'PENDING',
      });
    }
  }

  /** Deliveries and attempts go with their event once it is WEBHOOK_RETENTION_DAYS old; in batches, so no lock is held long. */
  async prune(): Promise<number> {
    let total = 0;
    const days = this.config.webhooks.retentionDays;
    for (;;) {
      const deleted = await this.deliveries.pruneEvents(days, PRUNE_BATCH);
      total += deleted;
      if (deleted < PRUNE_BATCH) break;
    }
    await this.deliveries.pruneNotices(days);
    return total;
  }
}

/** ±10 %, so receivers that failed together are not retried in lockstep. */
function jitter(seconds: number): number {
  return seconds * (0.9 + randomInt(0, 20_001) / 100_000);
}
