import { Body, Controller, Delete, Get, HttpCode, Injectable, Param, PipeTransform, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AuditEventDto } from '../../audit/audit-event.dto';
import { AdminAuth, AdminScope } from '../../auth/auth.decorators';
import { CurrentActor } from '../../auth/principal';
import type { Actor } from '../../domain/actor';
import { AppException } from '../../common/errors/app.exception';
import { ApiEnvelope, ApiErrors } from '../../common/http/api-responses';
import { NoBody } from '../../common/http/no-body';
import { Page } from '../../common/http/page';
import { PaginationQueryDto } from '../../common/http/pagination.dto';
import { ListDevelopersQueryDto, OperatorDeveloperDetailDto, OperatorDeveloperDto, SuspendDeveloperDto } from './mica-operators.dto';
import { MicaOperatorsService } from './mica-operators.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A segment that cannot be an account id names nothing: 404 without a query. */
@Injectable()
export class DeveloperIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !UUID.test(value)) throw new AppException('NOT_FOUND', 'Account not found.');
    return value.toLowerCase();
  }
}

const IdParam = () => ApiParam({ name: 'id', format: 'uuid' });

@ApiTags('MiCA accounts (admin)')
@AdminAuth()
@Controller('admin/mica/developers')
export class MicaOperatorsController {
  constructor(private readonly operators: MicaOperatorsService) {}

  @Get()
  @AdminScope('mica:read')
  @ApiOperation({ summary: 'List MiCA developer accounts, newest first; search by email, name or id' })
  @ApiEnvelope(OperatorDeveloperDto, { list: true })
  @ApiErrors('VALIDATION_ERROR')
  list(@Query() query: ListDevelopersQueryDto): Promise<Page<OperatorDeveloperDto>> {
    return this.operators.list(query);
  }

  @Get(':id')
  @AdminScope('mica:read')
  @IdParam()
  @ApiOperation({ summary: 'One account with its keys (never a secret) and usage' })
  @ApiEnvelope(OperatorDeveloperDetailDto)
  @ApiErrors('NOT_FOUND')
  get(@Param('id', DeveloperIdPipe) id: string): Promise<OperatorDeveloperDetailDto> {
    return this.operators.get(id);
  }

  @Get(':id/events')
  @AdminScope('mica:read')
  @IdParam()
  @ApiOperation({ summary: "The account's audit trail, newest first" })
  @ApiEnvelope(AuditEventDto, { list: true })
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  events(@Param('id', DeveloperIdPipe) id: string, @Query() query: PaginationQueryDto): Promise<Page<AuditEventDto>> {
    return this.operators.events(id, query.limit, query.offset);
  }

  @Post(':id/suspend')
  @AdminScope('mica:write')
  @HttpCode(200)
  @IdParam()
  @ApiOperation({
    summary: 'Suspend: every key and the management token fail from the next request; the mailbox cannot register again meanwhile',
  })
  @ApiEnvelope(OperatorDeveloperDto)
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND', 'ACCOUNT_ERASED')
  suspend(
    @Param('id', DeveloperIdPipe) id: string,
    @Body() body: SuspendDeveloperDto,
    @CurrentActor() actor: Actor,
  ): Promise<OperatorDeveloperDto> {
    return this.operators.suspend(id, body.reason, actor);
  }

  @Post(':id/restore')
  @AdminScope('mica:write')
  @NoBody()
  @HttpCode(200)
  @IdParam()
  @ApiOperation({ summary: 'End a suspension: the keys valid before it pass again' })
  @ApiEnvelope(OperatorDeveloperDto)
  @ApiErrors('NOT_FOUND', 'ACCOUNT_ERASED')
  restore(@Param('id', DeveloperIdPipe) id: string, @CurrentActor() actor: Actor): Promise<OperatorDeveloperDto> {
    return this.operators.restore(id, actor);
  }

  @Delete(':id')
  @AdminScope('mica:write')
  @NoBody()
  @IdParam()
  @ApiOperation({ summary: 'Erase: keys revoked, name and email removed, audit kept anonymised; the mailbox may register again' })
  @ApiEnvelope(OperatorDeveloperDto)
  @ApiErrors('NOT_FOUND', 'ACCOUNT_ERASED')
  erase(@Param('id', DeveloperIdPipe) id: string, @CurrentActor() actor: Actor): Promise<OperatorDeveloperDto> {
    return this.operators.erase(id, actor);
  }
}
