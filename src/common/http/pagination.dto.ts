import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** Query strings arrive as text: only plain digit strings become numbers, anything else fails validation. */
export const ToInt = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value), {
    toClassOnly: true,
  });

export const MAX_OFFSET = 1_000_000;

/** `offset` alone, for lists whose `limit` has its own bounds (search). */
export class OffsetQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0 })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  offset: number = 0;
}

export class PaginationQueryDto extends OffsetQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(500)
  limit: number = 100;
}
