import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { GRANULARITIES, Granularity } from '../domain/usage-granularity';
import { REFUSAL_REASONS, RefusalReason } from '../usage/usage.tracker';

/** SPEC §17: `from` and `to` at most 400 days apart. */
export const MAX_RANGE_DAYS = 400;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export class UsageQueryDto {
  @ApiPropertyOptional({ example: '2026-11-01', description: 'First UTC day (inclusive), YYYY-MM-DD. Default: 29 days before `to`.' })
  @IsOptional()
  @Matches(DATE, { message: 'from must be a date (YYYY-MM-DD)' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-11-30', description: 'Last UTC day (inclusive), YYYY-MM-DD. Default: today (UTC).' })
  @IsOptional()
  @Matches(DATE, { message: 'to must be a date (YYYY-MM-DD)' })
  to?: string;

  @ApiPropertyOptional({ enum: GRANULARITIES, default: 'day' })
  @IsOptional()
  @IsIn(GRANULARITIES)
  granularity?: Granularity;
}

export class RefusedDto implements Record<RefusalReason, number> {
  @ApiProperty({ description: 'Refused: the client address was outside allowedCidrs.' }) IP_NOT_ALLOWED: number;
  @ApiProperty({ description: "Refused: the service was not the key's or the instance's." }) SERVICE_NOT_ENABLED: number;
  @ApiProperty({ description: 'Refused: a rate limit of the key was spent.' }) RATE_LIMIT_EXCEEDED: number;
}

export class UsageBucketDto {
  @ApiProperty({ example: '2026-11-30T00:00:00.000Z', description: 'Start of the UTC hour or day.' }) start: string;
  @ApiProperty({ description: 'Requests admitted (what requestCount counts).' }) requests: number;
  @ApiProperty({ type: RefusedDto, description: 'Requests of this key refused, by reason (not in requestCount).' }) refused: RefusedDto;
}

export class UsageTotalsDto {
  @ApiProperty() requests: number;
  @ApiProperty({ type: RefusedDto }) refused: RefusedDto;
}

export class KeyUsageDto {
  @ApiProperty({ format: 'uuid' }) keyId: string;
  @ApiProperty({ example: '2026-11-01' }) from: string;
  @ApiProperty({ example: '2026-11-30' }) to: string;
  @ApiProperty({ enum: GRANULARITIES }) granularity: Granularity;
  @ApiProperty({ description: "The key's requestCount: the sum of its buckets over all time kept." }) requestCount: number;
  @ApiProperty({ type: UsageTotalsDto, description: 'Sums of the buckets in the range.' }) totals: UsageTotalsDto;
  @ApiProperty({
    type: [UsageBucketDto],
    description: 'Buckets with traffic in the range, oldest first (hours or days without any are left out).',
  })
  buckets: UsageBucketDto[];
}

export class MicaQuotaDto {
  @ApiProperty({ description: 'MICA_RATE_LIMIT_PER_DAY.' }) limit: number;
  @ApiProperty() used: number;
  @ApiProperty() remaining: number;
  @ApiProperty({ example: '2026-12-01T00:00:00.000Z', description: 'Next UTC midnight.' }) resetsAt: string;
}

export class MicaKeyUsageDto extends KeyUsageDto {
  @ApiProperty() name: string;
  @ApiProperty() keyPrefix: string;
  @ApiProperty() isActive: boolean;
  // Inline rather than a $ref: `nullable` beside `allOf: [$ref]` (what a nullable class type generates)
  // still sends null through the referenced object schema, which refuses it.
  @ApiProperty({
    type: 'object',
    nullable: true,
    selfRequired: true,
    required: ['limit', 'used', 'remaining', 'resetsAt'],
    properties: {
      limit: { type: 'number', description: 'MICA_RATE_LIMIT_PER_DAY.' },
      used: { type: 'number' },
      remaining: { type: 'number' },
      resetsAt: { type: 'string', example: '2026-12-01T00:00:00.000Z', description: 'Next UTC midnight.' },
    },
    description: "Today's daily quota of an active key; null for a revoked key or when the daily limit is off.",
  })
  quota: MicaQuotaDto | null;
}

export class MicaUsageDto {
  @ApiProperty({ example: '2026-11-01' }) from: string;
  @ApiProperty({ example: '2026-11-30' }) to: string;
  @ApiProperty({ enum: GRANULARITIES }) granularity: Granularity;
  @ApiProperty({ type: [MicaKeyUsageDto], description: 'Every key of the account, newest first.' }) keys: MicaKeyUsageDto[];
}

export const NO_REFUSALS = (): RefusedDto => Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as unknown as RefusedDto;
