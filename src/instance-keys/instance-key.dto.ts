import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { SERVICE_NAMES, ServiceName } from '../domain/platform-services';
import { MAX_ALLOWED_CIDRS } from '../domain/key-restrictions';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { CodePointLength, NoControlChars, Trim, WithUtcOffset } from '../common/http/text';
import { isoOrNull } from '../common/http/iso-date';
import type { InstanceKeyRecord } from './instance-key.repository';
import { effectiveStatus, KEY_STATUSES, KeyStatus } from '../domain/instance-key.state';

export const MAX_OVERLAP_SECONDS = 2_592_000;
/** Ten years: long enough for any planned pause, short enough to stay a sane timestamp. */
export const MAX_PAUSE_SECONDS = 315_360_000;

/** SPEC §12: the fields that narrow a key, on create and PATCH. Omitted on create, or `null`: no restriction. */
export class KeyRestrictionsDto {
  @ApiPropertyOptional({
    enum: SERVICE_NAMES,
    isArray: true,
    nullable: true,
    description: "Services this key may use: a subset of the instance's. `null`: every service the instance has (now and later).",
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(SERVICE_NAMES, { each: true })
  services?: ServiceName[] | null;

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    maxItems: MAX_ALLOWED_CIDRS,
    example: ['203.0.113.0/24', '2001:db8::/32'],
    description:
      'IPv4/IPv6 ranges (or single addresses) the key may be used from; stored canonical (host bits cleared, IPv4-mapped IPv6 as IPv4). `null`: anywhere.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: 'allowedCidrs must hold at least one range (send null for anywhere)' })
  @ArrayMaxSize(MAX_ALLOWED_CIDRS)
  @IsString({ each: true })
  @MaxLength(49, { each: true })
  allowedCidrs?: string[] | null;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    nullable: true,
    description: "This key's own requests per minute, at most the deployment's RATE_LIMIT_PER_KEY_PER_MINUTE. `null`: the deployment's.",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  rateLimitPerMinute?: number | null;
}

export class CreateKeyDto extends KeyRestrictionsDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'CI deploys' })
  @Trim()
  @IsString()
  @CodePointLength(1, 100)
  @NoControlChars()
  name: string;

  @ApiPropertyOptional({
    example: '2027-12-31T00:00:00Z',
    description: 'ISO-8601 with a time zone; must be in the future. Omitted: never expires.',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @WithUtcOffset()
  expiresAt?: string;
}

export class UpdateKeyDto extends KeyRestrictionsDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  // A name can be changed, not removed: null fails like any non-string.
  @ValidateIf((o: UpdateKeyDto) => o.name !== undefined)
  @Trim()
  @IsString()
  @Length(1, 100)
  @NoControlChars()
  name?: string;
}

export class RotateKeyDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_OVERLAP_SECONDS,
    description: 'How long the old key stays valid; default KEY_ROTATION_OVERLAP_SECONDS (604800). 0 ends it at once.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_OVERLAP_SECONDS)
  overlapSeconds?: number;
}

export class PauseKeyDto {
  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'End of the pause (future). Give this or durationSeconds.' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @WithUtcOffset()
  until?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAUSE_SECONDS })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_PAUSE_SECONDS)
  durationSeconds?: number;
}

export class ListKeysQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ enum: KEY_STATUSES, description: 'The state as of now (EXPIRED is derived from expiresAt).' })
  @IsOptional()
  @IsIn(KEY_STATUSES)
  status?: KeyStatus;
}

export class InstanceKeyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'Default' }) name: string;
  @ApiProperty({ example: 'trusset_aB3dE5fG_3f1c', description: '`trusset_{instanceRef}_` and the first 4 hex characters of the secret.' })
  keyPrefix: string;
  @ApiProperty({ example: '9b2e', description: 'The last 4 hex characters of the secret.' }) keyHint: string;
  @ApiProperty({ enum: KEY_STATUSES }) status: KeyStatus;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Own expiry, or the end of the rotation overlap.' })
  expiresAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Updated in batches, not on every request.' }) lastUsedAt:
    string | null;
  @ApiProperty({ type: 'integer', description: 'Requests admitted with this key (updated in batches).' }) requestCount: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) rotatedAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) replacedByKeyId: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) replacesKeyId: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Set while the key is PAUSED.' }) pausedUntil:
    string | null;
  @ApiProperty({ enum: SERVICE_NAMES, isArray: true, nullable: true, description: "The key's own subset; null: all the instance has." })
  services: ServiceName[] | null;
  @ApiProperty({ type: [String], nullable: true, description: 'Canonical ranges the key may be used from; null: anywhere.' }) allowedCidrs:
    string[] | null;
  @ApiProperty({ type: 'integer', nullable: true, description: "The key's own per-minute limit; null: the deployment's." })
  rateLimitPerMinute: number | null;

  /** `now` is the database clock read with the row. */
  static from(k: InstanceKeyRecord, now: Date): InstanceKeyDto {
    const status = effectiveStatus(k, now);
    return {
      id: k.id,
      name: k.name,
      keyPrefix: k.keyPrefix,
      keyHint: k.keyHint,
      status,
      createdAt: k.createdAt.toISOString(),
      expiresAt: isoOrNull(k.expiresAt),
      lastUsedAt: isoOrNull(k.lastUsedAt),
      requestCount: Number(k.requestCount),
      rotatedAt: isoOrNull(k.rotatedAt),
      replacedByKeyId: k.replacedByKeyId,
      replacesKeyId: k.replacesKeyId,
      revokedAt: isoOrNull(k.revokedAt),
      pausedUntil: status === 'PAUSED' ? isoOrNull(k.pausedUntil) : null,
      services: k.services,
      allowedCidrs: k.allowedCidrs,
      rateLimitPerMinute: k.rateLimitPerMinute,
    };
  }
}

export class IssuedKeyDto extends InstanceKeyDto {
  @ApiProperty({ example: 'trusset_aB3dE5fG_' + '0'.repeat(64), description: 'The plaintext key. Shown once, never again.' })
  key: string;
}

export class DeletedKeyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: true }) deleted: true;
}
