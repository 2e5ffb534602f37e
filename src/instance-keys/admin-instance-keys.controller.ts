import { Body, Controller, Delete, Get, Header, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminAuth, AdminScope } from '../auth/auth.decorators';
import { CurrentActor } from '../auth/principal';
import type { Actor } from '../domain/actor';
import { ApiEnvelope, ApiErrors } from '../common/http/api-responses';
import { Page } from '../common/http/page';
import { InstanceRefPipe } from '../common/http/instance-ref.pipe';
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
import { InstanceKeysService } from './instance-keys.service';
import { KeyIdPipe } from '../common/http/key-id.pipe';
import { NoBody } from '../common/http/no-body';
import { Idempotent } from '../idempotency/idempotent.decorator';

const RefParam = () => ApiParam({ name: 'instanceRef', example: 'aB3dE5fG', description: '8 alphanumeric characters' });
const KeyParam = () => ApiParam({ name: 'keyId', format: 'uuid' });

@ApiTags('instance keys (admin)')
@AdminAuth()
@RefParam()
@Controller('admin/instances/:instanceRef/keys')
export class AdminInstanceKeysController {
  constructor(private readonly keys: InstanceKeysService) {}

  @Get()
  @AdminScope('keys:read')
  @ApiOperation({ summary: "List an instance's keys, newest first" })
  @ApiEnvelope(InstanceKeyDto, { list: true })
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  list(@Param('instanceRef', InstanceRefPipe) instanceRef: string, @Query() query: ListKeysQueryDto): Promise<Page<InstanceKeyDto>> {
    return this.keys.list({ instanceRef }, query);
  }

  @Post()
  @Idempotent()
  @Header('Cache-Control', 'no-store')
  @AdminScope('keys:write')
  @ApiOperation({ summary: 'Create a key (the plaintext is in this response only)' })
  @ApiEnvelope(IssuedKeyDto, { status: 201 })
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND', 'KEY_LIMIT_REACHED', 'INSTANCE_ARCHIVED', 'UNSUPPORTED_MEDIA_TYPE')
  create(
    @Param('instanceRef', InstanceRefPipe) instanceRef: string,
    @Body() body: CreateKeyDto,
    @CurrentActor() actor: Actor,
  ): Promise<IssuedKeyDto> {
    return this.keys.create({ instanceRef }, body, actor);
  }

  @Get(':keyId')
  @KeyParam()
  @AdminScope('keys:read')
  @ApiOperation({ summary: 'Get one key' })
  @ApiEnvelope(InstanceKeyDto)
  @ApiErrors('NOT_FOUND')
  get(@Param('instanceRef', InstanceRefPipe) instanceRef: string, @Param('keyId', KeyIdPipe) keyId: string): Promise<InstanceKeyDto> {
    return this.keys.get({ instanceRef }, keyId);
  }

  @Post(':keyId/rotate')
  @KeyParam()
  @Idempotent()
  @Header('Cache-Control', 'no-store')
  @AdminScope('keys:write')
  @ApiOperation({ summary: 'Rotate an ACTIVE key: a new key replaces it, the old one stays valid for the overlap' })
  @ApiEnvelope(IssuedKeyDto, { status: 201 })
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND', 'KEY_NOT_ACTIVE', 'INSTANCE_ARCHIVED')
  rotate(
    @Param('instanceRef', InstanceRefPipe) instanceRef: string,
    @Param('keyId', KeyIdPipe) keyId: string,
    @Body() body: RotateKeyDto,
    @CurrentActor() actor: Actor,
  ): Promise<IssuedKeyDto> {
    return this.keys.rotate({ instanceRef }, keyId, body, actor);
  }

  @Patch(':keyId')
  @AdminScope('keys:write')
  @KeyParam()
  @ApiOperation({
    summary: 'Rename a key or change its restrictions (services, allowedCidrs, rateLimitPerMinute); in force from the next request',
  })
  @ApiEnvelope(InstanceKeyDto)
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND', 'KEY_NOT_ACTIVE')
  update(
    @Param('instanceRef', InstanceRefPipe) instanceRef: string,
    @Param('keyId', KeyIdPipe) keyId: string,
    @Body() body: UpdateKeyDto,
    @CurrentActor() actor: Actor,
  ): Promise<InstanceKeyDto> {
    return this.keys.update({ instanceRef }, keyId, body, actor);
  }

  @Post(':keyId/pause')
  @HttpCode(200)
  @KeyParam()
  @AdminScope('keys:write')
  @ApiOperation({ summary: 'Pause a key until a time in the future (valid again by itself afterwards)' })
  @ApiEnvelope(InstanceKeyDto)
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND', 'KEY_NOT_ACTIVE')
  pause(
    @Param('instanceRef', InstanceRefPipe) instanceRef: string,
    @Param('keyId', KeyIdPipe) keyId: string,
    @Body() body: PauseKeyDto,
    @CurrentActor() actor: Actor,
  ): Promise<InstanceKeyDto> {
    return this.keys.pause({ instanceRef }, keyId, body, actor);
  }

  @Post(':keyId/resume')
  @NoBody()
  @HttpCode(200)
  @KeyParam()
  @AdminScope('keys:write')
  @ApiOperation({ summary: 'End a pause early' })
  @ApiEnvelope(InstanceKeyDto)
  @ApiErrors('NOT_FOUND', 'KEY_NOT_ACTIVE')
  resume(
    @Param('instanceRef', InstanceRefPipe) instanceRef: string,
    @Param('keyId', KeyIdPipe) keyId: string,
    @CurrentActor() actor: Actor,
  ): Promise<InstanceKeyDto> {
    return this.keys.resume({ instanceRef }, keyId, actor);
  }

  @Post(':keyId/revoke')
  @NoBody()
  @HttpCode(200)
  @KeyParam()
  @AdminScope('keys:write')
  @ApiOperation({ summary: 'Revoke a key, at once and for good' })
  @ApiEnvelope(InstanceKeyDto)
  @ApiErrors('NOT_FOUND', 'ALREADY_REVOKED', 'KEY_NOT_ACTIVE')
  revoke(
    @Param('instanceRef', InstanceRefPipe) instanceRef: string,
    @Param('keyId', KeyIdPipe) keyId: string,
    @CurrentActor() actor: Actor,
  ): Promise<InstanceKeyDto> {
    return this.keys.revoke({ instanceRef }, keyId, actor);
  }

  @Delete(':keyId')
  @NoBody()
  @KeyParam()
  @AdminScope('keys:write')
  @ApiOperation({ summary: 'Revoke if needed, then remove the key record (its audit events stay)' })
  @ApiEnvelope(DeletedKeyDto)
  @ApiErrors('NOT_FOUND')
  delete(
    @Param('instanceRef', InstanceRefPipe) instanceRef: string,
    @Param('keyId', KeyIdPipe) keyId: string,
    @CurrentActor() actor: Actor,
  ): Promise<DeletedKeyDto> {
    return this.keys.delete({ instanceRef }, keyId, actor);
  }
}
