import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';

/** Webhook metrics on the service's registry: attempts by outcome, and the outbox as the database sees it (all replicas). */
@Injectable()
export class WebhookMetrics {
  readonly deliveries: Counter<'outcome'>;

  constructor(metrics: MetricsService, deliveries: WebhookDeliveryRepository) {
    this.deliveries = new Counter({
      name: 'trusset_webhook_deliveries_total',
      help: 'Webhook delivery attempts made by this replica, by outcome (delivered, failed_retrying, failed, refused_retrying, refused, gone).',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    });
    let pending: Promise<{ depth: number; age: number }> | undefined;
    // One query serves both gauges of a scrape.
    const read = () => (pending ??= deliveries.queue().finally(() => setTimeout(() => (pending = undefined), 0)));
    new Gauge({
      name: 'trusset_webhook_queue_depth',
      help: 'Webhook deliveries waiting to be sent or retried (deployment-wide).',
      registers: [metrics.registry],
      async collect() {
        this.set((await read()).depth);
      },
    });
    new Gauge({
      name: 'trusset_webhook_oldest_pending_age_seconds',
      help: 'Age of the oldest webhook delivery still pending, in seconds (0 when none).',
      registers: [metrics.registry],
      async collect() {
        this.set((await read()).age);
      },
    });
  }
}
