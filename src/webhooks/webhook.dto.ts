import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Length,
  ValidateIf,
} from 'class-validator';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { NoControlChars, Trim } from '../common/http/text';
import { WEBHOOK_EVENT_TYPES } from './webhook-events';

export const MAX_URL_LENGTH = 2048;

/** An endpoint's optional description, the same rule on create and update: trimmed, at most 500 characters, no control characters. */
const WebhookDescription = () =>
  applyDecorators(ApiPropertyOptional({ maxLength: 500 }), IsOptional(), Trim(), IsString(), Length(0, 500), NoControlChars());

export class CreateWebhookDto {
  @ApiProperty({
    example: 'https://hooks.example.com/trusset',
    maxLength: MAX_URL_LENGTH,
    description: '`https` only; never a private, loopback or link-local address.',
  })
  @Trim()
  @IsString()
  @Length(1, MAX_URL_LENGTH)
  url: string;

  @ApiPropertyOptional({
    type: [String],
    enum: WEBHOOK_EVENT_TYPES,
    description: 'Event types to receive. Omitted or null: every event of this door.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  events?: string[] | null;

  @WebhookDescription()
  description?: string;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({ maxLength: MAX_URL_LENGTH })
  @IsOptional()
  @Trim()
  @IsString()
  @Length(1, MAX_URL_LENGTH)
  url?: string;

  @ApiPropertyOptional({ type: [String], enum: WEBHOOK_EVENT_TYPES, nullable: true, description: 'null: every event of this door.' })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true })
  events?: string[] | null;

  @ApiPropertyOptional({ description: 'false stops deliveries (pending ones are cancelled); true starts them again.' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @WebhookDescription()
  description?: string;
}

export class WebhookEndpointDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: String, nullable: true }) description: string | null;
  @ApiPropertyOptional({ type: [String], nullable: true, description: 'null: every event of this door.' }) events: string[] | null;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'Why the service disabled it (e.g. the receiver answered 410).' })
  disabledReason: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Until then the previous secret signs too (after a rotation).',
  })
  previousSecretExpiresAt: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;
}

export class WebhookEndpointWithSecretDto extends WebhookEndpointDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'The signing secret. Shown once, never again.' })
  secret: string;
}

export class DeletedWebhookDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: true }) deleted: true;
}

export class WebhookAttemptDto {
  @ApiProperty() attempt: number;
  @ApiProperty({ enum: ['DELIVERED', 'FAILED', 'REFUSED'] }) status: string;
  @ApiProperty({ type: 'integer', nullable: true }) responseStatus: number | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
  @ApiProperty() at: string;
  @ApiProperty() durationMs: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) nextAttemptAt: string | null;
}

export class WebhookDeliveryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) eventId: string;
  @ApiProperty({ example: 'msg_2b5a0c3e9f1d4c6a8b7e0d1f2a3b4c5d', description: 'The `webhook-id` header of every attempt.' })
  webhookId: string;
  @ApiProperty({ example: 'key.rotated' }) type: string;
  @ApiProperty({ enum: ['PENDING', 'DELIVERED', 'FAILED', 'CANCELLED'] }) status: string;
  @ApiProperty({ type: 'integer', description: 'Attempts made so far.' }) attempt: number;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Of the last attempt.' }) responseStatus: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Of the last attempt.' }) error: string | null;
  @ApiProperty({ format: 'date-time', description: 'When the last attempt was made, or the event was created.' }) at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) nextAttemptAt: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: [WebhookAttemptDto], description: 'Every attempt, oldest first.' }) attempts: WebhookAttemptDto[];
}

export class WebhookTestDto {
  @ApiProperty({ format: 'uuid' }) eventId: string;
  @ApiProperty({ format: 'uuid' }) deliveryId: string;
  @ApiProperty() webhookId: string;
}

export class ListDeliveriesQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ enum: ['PENDING', 'DELIVERED', 'FAILED', 'CANCELLED'] })
  @IsOptional()
  @IsIn(['PENDING', 'DELIVERED', 'FAILED', 'CANCELLED'])
  status?: string;
}
