import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsIn, IsISO8601, IsOptional, IsString, Length, Matches } from 'class-validator';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { NoControlChars, Trim } from '../common/http/text';
import { INSTANCE_REF } from '../common/http/instance-ref.pipe';
import { OPERATOR_SCOPES, OperatorScope } from '../domain/operator-token.scopes';

export const OPERATOR_TOKEN_STATUSES = ['ACTIVE', 'EXPIRED', 'REVOKED'] as const;
export type OperatorTokenStatus = (typeof OPERATOR_TOKEN_STATUSES)[number];
export const MAX_TOKEN_INSTANCES = 100;

export class CreateOperatorTokenDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 100,
    example: 'dashboard-backend',
    description: 'Who or what holds it; shown as the actor in the audit trail.',
  })
  @Trim()
  @IsString()
  @Length(1, 100)
  @NoControlChars()
  name: string;

  @ApiProperty({
    enum: OPERATOR_SCOPES,
    isArray: true,
    example: ['instances:read', 'keys:read'],
    description: 'At least one; each a scope the caller holds itself.',
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(OPERATOR_SCOPES, { each: true, message: `each value in scopes must be one of: ${OPERATOR_SCOPES.join(', ')}` })
  scopes: OperatorScope[];

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    maxItems: MAX_TOKEN_INSTANCES,
    example: ['aB3dE5fG'],
    description:
      "The only instances the token sees (others are 404, lists hold only these). Omitted: the caller's own restriction (every instance for ADMIN_TOKEN or an unrestricted token); `null`: every instance.",
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_TOKEN_INSTANCES)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(INSTANCE_REF, { each: true, message: 'each value in instanceRefs must be an instanceRef (8 letters or digits)' })
  instanceRefs?: string[] | null;

  @ApiPropertyOptional({
    example: '2027-12-31T00:00:00Z',
    description:
      "ISO-8601 with a time zone, in the future. Omitted: never expires, or the caller's own expiry when the caller is an operator token that expires.",
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  expiresAt?: string;
}

export class ListOperatorTokensQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ enum: OPERATOR_TOKEN_STATUSES, description: 'The state as of now (EXPIRED is derived from expiresAt).' })
  @IsOptional()
  @IsIn(OPERATOR_TOKEN_STATUSES)
  status?: OperatorTokenStatus;
}

export class TokenCreatorDto {
  @ApiProperty({ enum: ['admin', 'operator'] }) type: 'admin' | 'operator';
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'The creating operator token; null for ADMIN_TOKEN.' }) id:
    string | null;
  @ApiProperty({ type: String, nullable: true }) name: string | null;
}

export class OperatorTokenDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'dashboard-backend' }) name: string;
  @ApiProperty({ example: 'trusset_admin_3f1c', description: '`trusset_admin_` and the first 4 hex characters of the secret.' })
  tokenPrefix: string;
  @ApiProperty({ example: '9b2e', description: 'The last 4 hex characters of the secret.' }) tokenHint: string;
  @ApiProperty({ enum: OPERATOR_SCOPES, isArray: true }) scopes: OperatorScope[];
  @ApiPropertyOptional({ type: [String], nullable: true, description: 'null: every instance.' }) instanceRefs: string[] | null;
  @ApiProperty({ enum: OPERATOR_TOKEN_STATUSES }) status: OperatorTokenStatus;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expiresAt: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: TokenCreatorDto }) createdBy: TokenCreatorDto;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Updated in batches, not on every request: during a rotation, shows when the old token stopped being used.',
  })
  lastUsedAt: string | null;
  @ApiProperty({ description: 'Requests admitted with this token (updated in batches).' }) requestCount: number;
}

export class IssuedOperatorTokenDto extends OperatorTokenDto {
  @ApiProperty({ example: 'trusset_admin_<64 hex>', description: 'The token itself: in this response only.' })
  token: string;
}
