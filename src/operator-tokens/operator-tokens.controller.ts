import { Body, Controller, Get, Header, HttpCode, Injectable, Param, PipeTransform, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminAuth, AdminScope } from '../auth/auth.decorators';
import { CurrentActor, CurrentPrincipal, Principal } from '../auth/principal';
import type { Actor } from '../domain/actor';
import { AppException } from '../common/errors/app.exception';
import { ApiEnvelope, ApiErrors } from '../common/http/api-responses';
import { NoBody } from '../common/http/no-body';
import { Page } from '../common/http/page';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { AuditEventDto } from '../audit/audit-event.dto';
import { CreateOperatorTokenDto, IssuedOperatorTokenDto, ListOperatorTokensQueryDto, OperatorTokenDto } from './operator-token.dto';
import { OperatorTokensService } from './operator-tokens.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path segment that cannot be a token id names nothing: 404, without a database query. */
@Injectable()
class TokenIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (typeof value !== 'string' || !UUID.test(value)) throw new AppException('NOT_FOUND', 'Operator token not found.');
    return value.toLowerCase();
  }
}

/** Behind AdminAuthGuard the caller is ADMIN_TOKEN or an operator token. */
type Manager = Extract<Principal, { kind: 'admin' } | { kind: 'operator' }>;
const IdParam = () => ApiParam({ name: 'id', format: 'uuid', description: 'The operator token id' });

@ApiTags('operator tokens (admin)')
@AdminAuth()
@Controller('admin/tokens')
export class OperatorTokensController {
  constructor(private readonly tokens: OperatorTokensService) {}

  @Post()
  @Header('Cache-Control', 'no-store')
  @AdminScope('tokens:manage')
  @ApiOperation({
    summary: 'Create an operator token (the token is in this response only)',
    description: 'An operator token can grant only scopes, instances and a lifetime it holds itself (403 `INSUFFICIENT_SCOPE` otherwise).',
  })
  @ApiEnvelope(IssuedOperatorTokenDto, { status: 201 })
  @ApiErrors('VALIDATION_ERROR', 'INSUFFICIENT_SCOPE', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE')
  create(
    @Body() dto: CreateOperatorTokenDto,
    @CurrentPrincipal() p: Manager,
    @CurrentActor() actor: Actor,
  ): Promise<IssuedOperatorTokenDto> {
    return this.tokens.create(dto, p, actor);
  }

  @Get()
  @AdminScope('tokens:manage')
  @ApiOperation({
    summary: 'List operator tokens, newest first (never ADMIN_TOKEN)',
    description: 'An operator token sees only the tokens within its own powers (scopes, instances and expiry it holds itself).',
  })
  @ApiEnvelope(OperatorTokenDto, { list: true })
  @ApiErrors('VALIDATION_ERROR')
  list(@Query() query: ListOperatorTokensQueryDto, @CurrentPrincipal() p: Manager): Promise<Page<OperatorTokenDto>> {
    return this.tokens.list(query, p);
  }

  @Get(':id')
  @IdParam()
  @AdminScope('tokens:manage')
  @ApiOperation({ summary: 'Get one operator token' })
  @ApiEnvelope(OperatorTokenDto)
  @ApiErrors('NOT_FOUND')
  get(@Param('id', TokenIdPipe) id: string, @CurrentPrincipal() p: Manager): Promise<OperatorTokenDto> {
    return this.tokens.get(id, p);
  }

  @Get(':id/events')
  @IdParam()
  @AdminScope('audit:read', { allInstances: true })
  @ApiOperation({
    summary: "An operator token's audit trail: everything it did, its creation and its revocation, newest first",
    description: 'Spans every instance the token reached, so it needs a token not restricted to instances.',
  })
  @ApiEnvelope(AuditEventDto, { list: true })
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  events(@Param('id', TokenIdPipe) id: string, @Query() query: PaginationQueryDto): Promise<Page<AuditEventDto>> {
    return this.tokens.events(id, query);
  }

  @Post(':id/revoke')
  @NoBody()
  @HttpCode(200)
  @IdParam()
  @AdminScope('tokens:manage')
  @ApiOperation({ summary: 'Revoke an operator token, at once and for good (a token may revoke itself)' })
  @ApiEnvelope(OperatorTokenDto)
  @ApiErrors('NOT_FOUND', 'ALREADY_REVOKED')
  revoke(@Param('id', TokenIdPipe) id: string, @CurrentPrincipal() p: Manager, @CurrentActor() actor: Actor): Promise<OperatorTokenDto> {
    return this.tokens.revoke(id, p, actor);
  }
}
