import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { NoControlChars, Trim } from '../common/http/text';

export class RevokeAllKeysDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 500,
    example: 'Key material exposed in a CI log',
    description: "Why; recorded on every revoked key's audit event.",
  })
  @Trim()
  @IsString()
  @Length(1, 500)
  @NoControlChars()
  reason: string;

  @ApiPropertyOptional({
    type: [String],
    format: 'uuid',
    maxItems: 100,
    description: 'Keys of this instance to keep; an id that is not one is a 400 (nothing is revoked).',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsUUID('all', { each: true })
  exceptKeyIds?: string[];
}

export class RevokedAllDto {
  @ApiProperty({ example: 4, description: 'How many keys this call revoked (keys already revoked or expired are not counted).' })
  revoked: number;
}
