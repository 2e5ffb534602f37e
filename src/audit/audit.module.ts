import { Global, Module } from '@nestjs/common';
import { AdminEventsController } from '../admin-events/admin-events.controller';
import { AuditService } from './audit.service';
import { FailedAttemptsService } from './failed-attempts.service';

@Global()
@Module({ controllers: [AdminEventsController], providers: [AuditService, FailedAttemptsService], exports: [AuditService, FailedAttemptsService] })
export class AuditModule {}
