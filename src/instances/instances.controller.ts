import { Body, Controller, Get, Header, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminAuth, AdminScope } from '../auth/auth.decorators';
import { CurrentActor, VisibleInstances } from '../auth/principal';
import type { Actor } from '../domain/actor';
import { ApiEnvelope, ApiErrors } from '../common/http/api-responses';
import { Page } from '../common/http/page';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { AuditEventDto } from '../audit/audit-event.dto';
import { CreateInstanceDto, InstanceCreatedDto, InstanceDto, ListInstancesQueryDto, UpdateInstanceDto } from './instance.dto';
import { InstanceRefPipe } from '../common/http/instance-ref.pipe';
import { InstancesService } from './instances.service';
import { NoBody } from '../common/http/no-body';
import { Idempotent } from '../idempotency/idempotent.decorator';

const RefParam = () => ApiParam({ name: 'instanceRef', example: 'aB3dE5fG', description: '8 alphanumeric characters' });

@ApiTags('instances (admin)')
@AdminAuth()
@Controller('admin/instances')
export class InstancesController {
  constructor(private readonly instances: InstancesService) {}

  @Post()
  @Idempotent()
  @Header('Cache-Control', 'no-store')
  @AdminScope('instances:write', { allInstances: true })
  @ApiOperation({ summary: 'Create an instance and its first key, `Default` (the key plaintext is in this response only)' })
  @ApiEnvelope(InstanceCreatedDto, { status: 201 })
  @ApiErrors('VALIDATION_ERROR', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE')
  create(@Body() dto: CreateInstanceDto, @CurrentActor() actor: Actor): Promise<InstanceCreatedDto> {
    return this.instances.createWithFirstKey(dto, actor);
  }

  @Get()
  @AdminScope('instances:read')
  @ApiOperation({ summary: 'List instances, newest first', description: 'An operator token restricted to instances lists only those.' })
  @ApiEnvelope(InstanceDto, { list: true })
  @ApiErrors('VALIDATION_ERROR')
  list(@Query() query: ListInstancesQueryDto, @VisibleInstances() visible: string[] | null): Promise<Page<InstanceDto>> {
    return this.instances.list(query, visible);
  }

  @Get(':instanceRef')
  @RefParam()
  @AdminScope('instances:read')
  @ApiOperation({ summary: 'Get one instance' })
  @ApiEnvelope(InstanceDto)
  @ApiErrors('NOT_FOUND')
  get(@Param('instanceRef', InstanceRefPipe) ref: string): Promise<InstanceDto> {
    return this.instances.get(ref);
  }

  @Patch(':instanceRef')
  @RefParam()
  @AdminScope('instances:write')
  @ApiOperation({ summary: 'Rename an instance or replace its services' })
  @ApiEnvelope(InstanceDto)
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND', 'UNSUPPORTED_MEDIA_TYPE')
  update(
    @Param('instanceRef', InstanceRefPipe) ref: string,
    @Body() dto: UpdateInstanceDto,
    @CurrentActor() actor: Actor,
  ): Promise<InstanceDto> {
    return this.instances.update(ref, dto, actor);
  }

  @Get(':instanceRef/events')
  @RefParam()
  @AdminScope('audit:read')
  @ApiOperation({ summary: "The instance's audit trail (instance and key changes), newest first" })
  @ApiEnvelope(AuditEventDto, { list: true })
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  events(@Param('instanceRef', InstanceRefPipe) ref: string, @Query() query: PaginationQueryDto): Promise<Page<AuditEventDto>> {
    return this.instances.events(ref, query);
  }

  @Post(':instanceRef/archive')
  @NoBody()
  @HttpCode(200)
  @RefParam()
  @AdminScope('instances:write')
  @ApiOperation({ summary: 'Archive an instance: every key of it fails from the next request on' })
  @ApiEnvelope(InstanceDto)
  @ApiErrors('NOT_FOUND')
  archive(@Param('instanceRef', InstanceRefPipe) ref: string, @CurrentActor() actor: Actor): Promise<InstanceDto> {
    return this.instances.archive(ref, actor);
  }

  @Post(':instanceRef/restore')
  @NoBody()
  @HttpCode(200)
  @RefParam()
  @AdminScope('instances:write')
  @ApiOperation({ summary: 'Restore an archived instance' })
  @ApiEnvelope(InstanceDto)
  @ApiErrors('NOT_FOUND')
  restore(@Param('instanceRef', InstanceRefPipe) ref: string, @CurrentActor() actor: Actor): Promise<InstanceDto> {
    return this.instances.restore(ref, actor);
  }
}
