import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, Matches } from 'class-validator';
import { AdminAuth, AdminScope } from '../auth/auth.decorators';
import { ApiEnvelope, ApiErrors } from '../common/http/api-responses';
import { Page } from '../common/http/page';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { WithUtcOffset } from '../common/http/text';
import { AuditEventDto } from '../audit/audit-event.dto';
import { AuditService } from '../audit/audit.service';

export class AdminEventsQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({
    example: 'admin.auth_failed',
    description: 'Only events of this action (e.g. `admin.auth_failed`, `auth.failures_suppressed`).',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9_.]{0,63}$/, { message: 'action must be an action name such as admin.auth_failed' })
  action?: string;

  @ApiPropertyOptional({ example: '2026-11-30T00:00:00Z', description: 'Only events at or after this time (ISO-8601 with an offset).' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @WithUtcOffset()
  since?: string;
}

/**
 * Events that belong to no tenant: failed admin and management-token attempts, the tallies of those
 * past the strict limit, and system reports (SPEC §8). Newest first; their stored paths are bounded.
 */
@ApiTags('audit (admin)')
@AdminAuth()
@Controller('admin/events')
export class AdminEventsController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @AdminScope('audit:read', { allInstances: true })
  @ApiOperation({ summary: 'Audit events of no tenant (failed attempts, system reports), newest first' })
  @ApiEnvelope(AuditEventDto, { list: true })
  @ApiErrors('VALIDATION_ERROR')
  list(@Query() query: AdminEventsQueryDto): Promise<Page<AuditEventDto>> {
    return this.audit.listUnowned(
      { action: query.action, since: query.since === undefined ? undefined : new Date(query.since) },
      query.limit,
      query.offset,
    );
  }
}
