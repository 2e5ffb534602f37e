import { Module } from '@nestjs/common';
import { KeyManagementLimitGuard } from '../auth/key-management.limit.guard';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookDeliveryWorker } from './webhook-delivery.worker';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookMetrics } from './webhook.metrics';
import { WebhookNoticeScheduler } from './webhook-notice.scheduler';
import { WebhookRepository } from './webhook.repository';
import { AdminWebhooksController, DeveloperWebhooksController, SelfServiceWebhooksController } from './webhooks.controller';

/** Signed lifecycle webhooks (SPEC §14). Other modules enqueue events with the static WebhookOutbox.enqueue. */
@Module({
  controllers: [SelfServiceWebhooksController, AdminWebhooksController, DeveloperWebhooksController],
  providers: [
    WebhookEndpointsService,
    WebhookRepository,
    WebhookDeliveryRepository,
    WebhookDeliveryWorker,
    WebhookNoticeScheduler,
    WebhookMetrics,
    KeyManagementLimitGuard,
  ],
  exports: [WebhookDeliveryWorker, WebhookNoticeScheduler],
})
export class WebhooksModule {}
