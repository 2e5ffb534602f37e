import { Global, Module } from '@nestjs/common';
import { AdminEventsController } from './admin-events.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';
import { FailedAttemptsService } from './failed-attempts.service';

@Global()
@Module({ controllers: [AdminEventsController], providers: [AuditRepository, AuditService, FailedAttemptsService], exports: [AuditService, FailedAttemptsService] })
export class AuditModule {}
