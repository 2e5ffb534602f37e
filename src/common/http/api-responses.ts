import { applyDecorators, Type } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ERROR_CODES, ErrorCode } from '../errors/error-codes';

export class MetadataDto {
  @ApiProperty({
    description: "A UUID, or the caller's own X-Request-Id when it sent a sane one (8–128 characters of `[A-Za-z0-9._:-]`).",
    pattern: '^[A-Za-z0-9._:-]{8,128}$',
  })
  requestId: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-27T10:00:00.000Z' })
  timestamp: string;
}

export class PaginationDto {
  @ApiProperty({ type: 'integer' }) total: number;
  @ApiProperty({ type: 'integer' }) returned: number;
  @ApiProperty({ type: 'integer' }) limit: number;
  @ApiProperty({ type: 'integer' }) offset: number;
  @ApiProperty() hasMore: boolean;
}

export class ErrorBodyDto {
  @ApiProperty({ enum: Object.keys(ERROR_CODES), example: 'VALIDATION_ERROR' })
  code: string;

  @ApiProperty({ example: 'The request is invalid.' })
  message: string;

  @ApiPropertyOptional({
    description: 'Validation errors by field.',
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
    example: { name: ['name must be shorter than or equal to 100 characters'] },
  })
  details?: Record<string, string[]>;
}

export class ErrorResponseDto {
  @ApiProperty({ example: false })
  success: false;

  @ApiProperty({ type: ErrorBodyDto })
  error: ErrorBodyDto;

  @ApiProperty({ type: MetadataDto })
  metadata: MetadataDto;
}

/** Documents a success envelope around `model` (an array of it when `list`, with pagination). */
export function ApiEnvelope(model: Type<unknown>, options: { status?: number; list?: boolean; description?: string } = {}) {
  const data = options.list ? { type: 'array', items: { $ref: getSchemaPath(model) } } : { $ref: getSchemaPath(model) };
  return applyDecorators(
    ApiExtraModels(model, MetadataDto, PaginationDto),
    ApiResponse({
      status: options.status ?? 200,
      description: options.description ?? 'Success',
      schema: {
        type: 'object',
        required: options.list ? ['success', 'data', 'pagination', 'metadata'] : ['success', 'data', 'metadata'],
        properties: {
          success: { type: 'boolean', example: true },
          data,
          ...(options.list ? { pagination: { $ref: getSchemaPath(PaginationDto) } } : {}),
          metadata: { $ref: getSchemaPath(MetadataDto) },
        },
      },
    }),
  );
}

/** Documents the error envelope for each status these codes can produce. */
export function ApiErrors(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(
    ...[...byStatus].map(([status, list]) =>
      ApiResponse({ status, type: ErrorResponseDto, description: list.map((c) => `\`${c}\``).join(', ') }),
    ),
  );
}
