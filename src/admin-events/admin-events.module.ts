import { Module } from '@nestjs/common';
import { AdminEventsController } from './admin-events.controller';

/** GET /api/admin/events: the audit events of no tenant, read through the global AuditService. */
@Module({ controllers: [AdminEventsController] })
export class AdminEventsModule {}
