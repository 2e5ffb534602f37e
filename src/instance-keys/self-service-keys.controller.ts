import { Body, Controller, Delete, Get, Header, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuditEventDto } from '../audit/audit-event.dto';
import { InstanceKeyAuth } from '../auth/auth.decorators';
import { CurrentActor, CurrentPrincipal, Principal } from '../auth/principal';
import type { Actor } from '../domain/actor';
import { AppException } from '../common/errors/app.exception';
import { ApiEnvelope, ApiErrors, ErrorResponseDto } from '../common/http/api-responses';
import { Page } from '../common/http/page';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import {
  CreateKeyDto,
  DeletedKeyDto,
  InstanceKeyDto,
  IssuedKeyDto,
  ListKeysQueryDto,
  PauseKeyDto,
  RotateKeyDto,
  UpdateKeyDto,
} from './instance-key.dto';
import { InstanceKeysService, KeyScope } from './instance-keys.service';
import { KeyIdPipe } from '../common/http/key-id.pipe';
import { Brake } from '../auth/brake.decorator';
import { KeyManagementLimitGuard } from '../auth/key-management.limit.guard';
import { NoBody } from '../common/http/no-body';
import { Idempotent } from '../idempotency/idempotent.decorator';

const KeyParam = () => ApiParam({ name: 'keyId', format: 'uuid' });
const ManagementLimit = () =>
  ApiResponse({ status: 429, type: ErrorResponseDto, description: '`RATE_LIMIT_EXCEEDED`: key-management limit of the acting key.' });
const ActiveKeyOnly = () =>
  ApiResponse({
    status: 403,
    type: ErrorResponseDto,
    description: '`KEY_NOT_ACTIVE`: the acting key is in its rotation overlap; only an ACTIVE key manages keys.',
  });

/** The instance a key belongs to is the only one it can manage; any other key id is 404. */
const own = (p: Principal | undefined): KeyScope => {
  if (p?.kind !== 'instance_key') throw new AppException('AUTH_FAILED');
  return { instanceId: p.instanceId };
};

@ApiTags('instance keys (self-service)')
@InstanceKeyAuth()
@Controller('keys')
export class SelfServiceKeysController {
  constructor(private readonly keys: InstanceKeysService) {}

  @Get()
  @ApiOperation({ summary: "List this instance's keys, newest first" })
  @ApiEnvelope(InstanceKeyDto, { list: true })
  @ApiErrors('VALIDATION_ERROR')
  list(@CurrentPrincipal() p: Principal, @Query() query: ListKeysQueryDto): Promise<Page<InstanceKeyDto>> {
    return this.keys.list(own(p), query);
  }

  @Post()
  @UseGuards(KeyManagementLimitGuard)
  @ActiveKeyOnly()
  @Idempotent()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Create a key (the plaintext is in this response only)' })
  @ApiEnvelope(IssuedKeyDto, { status: 201 })
  @ApiErrors('VALIDATION_ERROR', 'KEY_LIMIT_REACHED', 'KEY_NOT_ACTIVE', 'PRIVILEGE_EXCEEDED', 'UNSUPPORTED_MEDIA_TYPE')
  @ManagementLimit()
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateKeyDto, @CurrentActor() actor: Actor): Promise<IssuedKeyDto> {
    return this.keys.create(own(p), body, actor);
  }

  @Get('events')
  @ApiOperation({ summary: "This instance's audit trail, newest first" })
  @ApiEnvelope(AuditEventDto, { list: true })
  @ApiErrors('VALIDATION_ERROR')
  events(@CurrentPrincipal() p: Principal, @Query() query: PaginationQueryDto): Promise<Page<AuditEventDto>> {
    return this.keys.events(own(p), query);
  }

  @Get(':keyId')
  @KeyParam()
  @ApiOperation({ summary: 'Get one key' })
  @ApiEnvelope(InstanceKeyDto)
  @ApiErrors('NOT_FOUND')
  get(@CurrentPrincipal() p: Principal, @Param('keyId', KeyIdPipe) keyId: string): Promise<InstanceKeyDto> {
    return this.keys.get(own(p), keyId);
  }

  @Post(':keyId/rotate')
  @UseGuards(KeyManagementLimitGuard)
  @ActiveKeyOnly()
  @KeyParam()
  @Idempotent()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Rotate an ACTIVE key: a new key replaces it, the old one stays valid for the overlap' })
  @ApiEnvelope(IssuedKeyDto, { status: 201 })
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND', 'KEY_NOT_ACTIVE', 'PRIVILEGE_EXCEEDED')
  @ManagementLimit()
  rotate(
    @CurrentPrincipal() p: Principal,
    @Param('keyId', KeyIdPipe) keyId: string,
    @Body() body: RotateKeyDto,
    @CurrentActor() actor: Actor,
  ): Promise<IssuedKeyDto> {
    return this.keys.rotate(own(p), keyId, body, actor);
  }

  @Patch(':keyId')
  @UseGuards(KeyManagementLimitGuard)
  @ActiveKeyOnly()
  @KeyParam()
  @ApiOperation({
    summary: 'Rename a key or change its restrictions (services, allowedCidrs, rateLimitPerMinute); in force from the next request',
  })
  @ApiEnvelope(InstanceKeyDto)
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND', 'KEY_NOT_ACTIVE', 'PRIVILEGE_EXCEEDED')
  @ManagementLimit()
  update(
    @CurrentPrincipal() p: Principal,
    @Param('keyId', KeyIdPipe) keyId: string,
    @Body() body: UpdateKeyDto,
    @CurrentActor() actor: Actor,
  ): Promise<InstanceKeyDto> {
    return this.keys.update(own(p), keyId, body, actor);
  }

  @Post(':keyId/pause')
  @UseGuards(KeyManagementLimitGuard)
  @ActiveKeyOnly()
  @Brake()
  @HttpCode(200)
  @KeyParam()
  @ApiOperation({ summary: 'Pause a key until a time in the future (valid again by itself afterwards)' })
  @ApiEnvelope(InstanceKeyDto)
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND', 'KEY_NOT_ACTIVE')
  pause(
    @CurrentPrincipal() p: Principal,
    @Param('keyId', KeyIdPipe) keyId: string,
    @Body() body: PauseKeyDto,
    @CurrentActor() actor: Actor,
  ): Promise<InstanceKeyDto> {
    return this.keys.pause(own(p), keyId, body, actor);
  }

  @Post(':keyId/resume')
  @NoBody()
  @UseGuards(KeyManagementLimitGuard)
  @ActiveKeyOnly()
  @HttpCode(200)
  @KeyParam()
  @ApiOperation({ summary: 'End a pause early' })
  @ApiEnvelope(InstanceKeyDto)
  @ApiErrors('NOT_FOUND', 'KEY_NOT_ACTIVE')
  @ManagementLimit()
  resume(
    @CurrentPrincipal() p: Principal,
    @Param('keyId', KeyIdPipe) keyId: string,
    @CurrentActor() actor: Actor,
  ): Promise<InstanceKeyDto> {
    return this.keys.resume(own(p), keyId, actor);
  }

  @Post(':keyId/revoke')
  @NoBody()
  @UseGuards(KeyManagementLimitGuard)
  @ActiveKeyOnly()
  @Brake()
  @HttpCode(200)
  @KeyParam()
  @ApiOperation({ summary: 'Revoke a key, at once and for good' })
  @ApiEnvelope(InstanceKeyDto)
  @ApiErrors('NOT_FOUND', 'ALREADY_REVOKED', 'KEY_NOT_ACTIVE')
  revoke(
    @CurrentPrincipal() p: Principal,
    @Param('keyId', KeyIdPipe) keyId: string,
    @CurrentActor() actor: Actor,
  ): Promise<InstanceKeyDto> {
    return this.keys.revoke(own(p), keyId, actor);
  }

  @Delete(':keyId')
  @NoBody()
  @UseGuards(KeyManagementLimitGuard)
  @ActiveKeyOnly()
  @KeyParam()
  @ApiOperation({ summary: 'Revoke if needed, then remove the key record (its audit events stay)' })
  @ApiEnvelope(DeletedKeyDto)
  @ApiErrors('NOT_FOUND')
  @ManagementLimit()
  delete(@CurrentPrincipal() p: Principal, @Param('keyId', KeyIdPipe) keyId: string, @CurrentActor() actor: Actor): Promise<DeletedKeyDto> {
    return this.keys.delete(own(p), keyId, actor);
  }
}
