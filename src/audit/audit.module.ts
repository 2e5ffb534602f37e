import { Global, Module } from '@nestjs/common';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';
import { FailedAttemptsService } from './failed-attempts.service';

/** The audit trail's writer (and its readers for the feature routes); the guards record through it too, so it sits below auth. */
@Global()
@Module({ providers: [AuditRepository, AuditService, FailedAttemptsService], exports: [AuditService, FailedAttemptsService] })
export class AuditModule {}
