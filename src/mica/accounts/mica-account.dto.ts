import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { isEmail, IsOptional, IsString, ValidateBy } from 'class-validator';
import { CodePointLength, NoControlChars, Trim } from '../../common/http/text';
import { INVISIBLE_IN_ADDRESS } from '../../domain/email-canonical';
import { isoOrNull } from '../../common/http/iso-date';
import type { MicaDeveloperRecord, MicaKeyRecord } from './mica-account.repository';

/**
 * An email address without invisible, format or control characters (SPEC §7). Checked before the
 * address syntax, which validator.js reads through encodeURI: a lone surrogate makes that throw.
 */
const SafeEmail = () =>
  ValidateBy({
    name: 'safeEmail',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' &&
        !INVISIBLE_IN_ADDRESS.test(value) &&
        isEmail(value, { allow_display_name: false, allow_ip_domain: false, require_tld: true }),
      defaultMessage: () => 'email must be an email address without invisible, format, control or space characters',
    },
  });

export class RegisterDeveloperDto {
  @ApiProperty({ minLength: 2, maxLength: 100, example: 'Ada Lovelace' })
  @Trim()
  @IsString()
  @CodePointLength(2, 100)
  @NoControlChars()
  name: string;

  @ApiProperty({
    maxLength: 254,
    example: 'ada@example.com',
    description:
      'One account per mailbox: compared after NFKC, case folding and dropping a `+tag`; invisible, format and control characters are refused.',
  })
  @Trim()
  @IsString()
  @CodePointLength(3, 254)
  @SafeEmail()
  email: string;
}

export class CreateMicaKeyDto {
  // The default is described, not declared: generators make a field with a `default` required in the body type.
  @ApiPropertyOptional({ minLength: 1, maxLength: 50, description: 'Omitted: `key`.' })
  @IsOptional()
  @Trim()
  @IsString()
  @CodePointLength(1, 50)
  @NoControlChars()
  name?: string;
}

export class MicaDeveloperDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'ada@example.com' })
  email: string;

  @ApiProperty({ example: 'Ada Lovelace' })
  name: string;

  static from(d: Pick<MicaDeveloperRecord, 'id' | 'email' | 'name'>): MicaDeveloperDto {
    return { id: d.id, email: d.email, name: d.name };
  }
}

export class MicaLimitsDto {
  @ApiProperty({ type: 'integer', example: 60, description: 'Data requests per key per minute (0: unlimited).' })
  perMinute: number;

  @ApiProperty({ type: 'integer', example: 5000, description: 'Data requests per key per UTC day (0: unlimited).' })
  perDay: number;

  @ApiProperty({ type: 'integer', example: 3, description: 'Most active (not revoked) keys per account.' })
  maxKeys: number;
}

export class MicaKeyDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'trusset_mica_3f9a0c1b2', description: '`trusset_mica_` and the first 9 hex of the key.' })
  keyPrefix: string;

  @ApiProperty({ example: '7e21', description: 'The last 4 characters of the key.' })
  keyHint: string;

  @ApiProperty({ example: 'key' })
  name: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Lags real use by up to USAGE_FLUSH_INTERVAL_MS.' })
  lastUsedAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revokedAt: string | null;

  @ApiProperty({ type: 'integer', description: 'Admitted data requests; lags real use by up to USAGE_FLUSH_INTERVAL_MS.' })
  requestCount: number;

  @ApiProperty()
  isActive: boolean;

  static from(k: MicaKeyRecord): MicaKeyDto {
    return {
      id: k.id,
      keyPrefix: k.keyPrefix,
      keyHint: k.keyHint,
      name: k.name,
      createdAt: k.createdAt.toISOString(),
      lastUsedAt: isoOrNull(k.lastUsedAt),
      revokedAt: isoOrNull(k.revokedAt),
      requestCount: Number(k.requestCount),
      isActive: k.revokedAt === null,
    };
  }
}

export class MicaKeyCreatedDto extends MicaKeyDto {
  @ApiProperty({ example: 'trusset_mica_3f9a0c1b2…', description: 'The key itself: shown here once, never again.' })
  apiKey: string;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'On rotation: the key this one replaces (now revoked).' })
  replacesKeyId: string | null;
}

export class RegistrationDto {
  @ApiProperty({ type: MicaDeveloperDto })
  developer: MicaDeveloperDto;

  @ApiProperty({ example: 'trusset_mica_3f9a0c1b2…', description: 'Shown once.' })
  apiKey: string;

  @ApiProperty({ example: '64 lowercase hex', description: 'Shown once; send as `Authorization: Bearer …` to manage keys.' })
  managementToken: string;

  @ApiProperty({ type: MicaLimitsDto })
  limits: MicaLimitsDto;
}

export class MicaKeysDto {
  @ApiProperty({ type: MicaDeveloperDto })
  developer: MicaDeveloperDto;

  @ApiProperty({ type: MicaKeyDto, isArray: true, description: 'Every key of the account, revoked ones included, newest first.' })
  keys: MicaKeyDto[];

  @ApiProperty({ type: MicaLimitsDto })
  limits: MicaLimitsDto;
}

export class ManagementTokenRotatedDto {
  @ApiProperty({ example: '64 lowercase hex', description: 'Shown once; the previous token stopped working.' })
  managementToken: string;

  @ApiProperty({ format: 'date-time' })
  rotatedAt: string;
}
