import { Body, Controller, Delete, Get, Header, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuditEventDto } from '../../audit/audit-event.dto';
import { ManagementTokenAuth } from '../../auth/auth.decorators';
import { CurrentActor } from '../../auth/principal';
import type { Actor } from '../../domain/actor';
import { ApiEnvelope, ApiErrors, ErrorResponseDto } from '../../common/http/api-responses';
import { Page } from '../../common/http/page';
import { PaginationQueryDto } from '../../common/http/pagination.dto';
import { CurrentDeveloperId, CurrentTokenDigest } from '../../auth/current-developer.decorator';
import { Brake } from '../../auth/brake.decorator';
import {
  CreateMicaKeyDto,
  ManagementTokenRotatedDto,
  MicaKeyCreatedDto,
  MicaKeyDto,
  MicaKeysDto,
  RegisterDeveloperDto,
  RegistrationDto,
} from './mica-account.dto';
import { MicaAccountsService } from './mica-accounts.service';
import { KeyIdPipe } from '../../common/http/key-id.pipe';
import { RegistrationLimitGuard } from './registration-limit.guard';
import { NoBody } from '../../common/http/no-body';
import { Idempotent } from '../../idempotency/idempotent.decorator';

const KeyIdParam = () => ApiParam({ name: 'keyId', format: 'uuid' });

@ApiTags('MiCA developer accounts')
@Controller('mica/developer')
export class MicaRegistrationController {
  constructor(private readonly accounts: MicaAccountsService) {}

  @Post('register')
  @UseGuards(RegistrationLimitGuard)
  @Idempotent()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Sign up for free: returns a MiCA API key and a management token, each shown only here' })
  @ApiEnvelope(RegistrationDto, { status: 201 })
  @ApiErrors('VALIDATION_ERROR', 'EMAIL_EXISTS', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE')
  @ApiResponse({
    status: 429,
    type: ErrorResponseDto,
    description: '`RATE_LIMIT_EXCEEDED`: too many sign-ups from this address (RATE_LIMIT_STRICT_PER_MINUTE).',
  })
  register(@Body() dto: RegisterDeveloperDto, @CurrentActor() actor: Actor): Promise<RegistrationDto> {
    return this.accounts.register(dto, actor);
  }
}

@ApiTags('MiCA developer accounts')
@ManagementTokenAuth()
@Controller('mica/developer')
export class MicaDeveloperController {
  constructor(private readonly accounts: MicaAccountsService) {}

  @Get('keys')
  @ApiOperation({ summary: 'The account, its keys (active, and the most recent revoked) and its limits' })
  @ApiEnvelope(MicaKeysDto)
  listKeys(@CurrentDeveloperId() developerId: string): Promise<MicaKeysDto> {
    return this.accounts.listKeys(developerId);
  }

  @Post('keys')
  @Idempotent()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Create a key (at most 3 active); its plaintext is shown only here' })
  @ApiEnvelope(MicaKeyCreatedDto, { status: 201 })
  @ApiErrors('VALIDATION_ERROR', 'KEY_LIMIT_REACHED', 'UNSUPPORTED_MEDIA_TYPE')
  createKey(
    @CurrentDeveloperId() developerId: string,
    @CurrentTokenDigest() tokenDigest: Buffer,
    @Body() dto: CreateMicaKeyDto,
    @CurrentActor() actor: Actor,
  ): Promise<MicaKeyCreatedDto> {
    return this.accounts.createKey(developerId, dto, actor, tokenDigest);
  }

  @Post('keys/:keyId/rotate')
  @NoBody()
  @Idempotent()
  @Header('Cache-Control', 'no-store')
  @KeyIdParam()
  @ApiOperation({ summary: 'Replace a key with a new one; the old key is revoked at once' })
  @ApiEnvelope(MicaKeyCreatedDto, { status: 201 })
  @ApiErrors('NOT_FOUND', 'KEY_NOT_ACTIVE')
  rotateKey(
    @CurrentDeveloperId() developerId: string,
    @CurrentTokenDigest() tokenDigest: Buffer,
    @Param('keyId', KeyIdPipe) keyId: string,
    @CurrentActor() actor: Actor,
  ): Promise<MicaKeyCreatedDto> {
    return this.accounts.rotateKey(developerId, keyId, actor, tokenDigest);
  }

  @Delete('keys/:keyId')
  @Brake()
  @NoBody()
  @KeyIdParam()
  @ApiOperation({ summary: 'Revoke a key at once (the record stays, listed as inactive)' })
  @ApiEnvelope(MicaKeyDto)
  @ApiErrors('NOT_FOUND', 'ALREADY_REVOKED')
  revokeKey(
    @CurrentDeveloperId() developerId: string,
    @CurrentTokenDigest() tokenDigest: Buffer,
    @Param('keyId', KeyIdPipe) keyId: string,
    @CurrentActor() actor: Actor,
  ): Promise<MicaKeyDto> {
    return this.accounts.revokeKey(developerId, keyId, actor, tokenDigest);
  }

  @Post('management-token/rotate')
  @Brake()
  @NoBody()
  @Idempotent()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Replace the management token; the one used for this request stops working at once' })
  @ApiEnvelope(ManagementTokenRotatedDto, { status: 201 })
  rotateManagementToken(
    @CurrentDeveloperId() developerId: string,
    @CurrentTokenDigest() tokenDigest: Buffer,
    @CurrentActor() actor: Actor,
  ): Promise<ManagementTokenRotatedDto> {
    return this.accounts.rotateManagementToken(developerId, actor, tokenDigest);
  }

  @Get('events')
  @ApiOperation({ summary: "The account's audit trail, newest first" })
  @ApiEnvelope(AuditEventDto, { list: true })
  @ApiErrors('VALIDATION_ERROR')
  events(@CurrentDeveloperId() developerId: string, @Query() query: PaginationQueryDto): Promise<Page<AuditEventDto>> {
    return this.accounts.events(developerId, query.limit, query.offset);
  }
}
