import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayUnique, IsArray, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import { IssuedKeyDto } from '../instance-keys/instance-key.dto';
import { isoOrNull } from '../common/http/iso-date';
import { CodePointLength, NoControlChars, Trim } from '../common/http/text';
import type { Instance } from './instance.entity';
import type { InstanceStatus } from '../domain/instance-status';
import { SERVICE_NAMES, ServiceName } from '../domain/platform-services';

export class CreateInstanceDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'Acme Bank production' })
  @Trim()
  @IsString()
  @CodePointLength(1, 100)
  @NoControlChars()
  name: string;

  @ApiPropertyOptional({ enum: SERVICE_NAMES, isArray: true, example: ['customers', 'tokenization'], description: 'Omitted: none.' })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(SERVICE_NAMES, { each: true, message: `each value in services must be one of: ${SERVICE_NAMES.join(', ')}` })
  services?: ServiceName[];
}

export class UpdateInstanceDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @IsOptional()
  @Trim()
  @IsString()
  @CodePointLength(1, 100)
  @NoControlChars()
  name?: string;

  @ApiPropertyOptional({
    enum: SERVICE_NAMES,
    isArray: true,
    description: 'Replaces the whole set; takes effect on the very next request.',
  })
  @IsOptional()
  @IsArray()
  @ArrayUnique()
  @IsIn(SERVICE_NAMES, { each: true, message: `each value in services must be one of: ${SERVICE_NAMES.join(', ')}` })
  services?: ServiceName[];
}

export class ListInstancesQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ enum: ['ACTIVE', 'ARCHIVED'] })
  @IsOptional()
  @IsIn(['ACTIVE', 'ARCHIVED'])
  status?: InstanceStatus;

  @ApiPropertyOptional({ maxLength: 100, description: 'Case-insensitive substring of the name.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  // PostgreSQL refuses NUL in text: without this a NUL in the search was a 500.
  @NoControlChars()
  search?: string;
}

export class InstanceDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'aB3dE5fG', description: '8 alphanumeric characters; part of every key of the instance.' })
  instanceRef: string;

  @ApiProperty({ example: 'Acme Bank production' })
  name: string;

  @ApiProperty({ enum: SERVICE_NAMES, isArray: true })
  services: ServiceName[];

  @ApiProperty({ enum: ['ACTIVE', 'ARCHIVED'] })
  status: InstanceStatus;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  archivedAt: string | null;

  static from(i: Instance): InstanceDto {
    return {
      id: i.id,
      instanceRef: i.ref,
      name: i.name,
      services: [...i.services].sort((a, b) => SERVICE_NAMES.indexOf(a) - SERVICE_NAMES.indexOf(b)),
      status: i.status,
      createdAt: i.createdAt.toISOString(),
      updatedAt: i.updatedAt.toISOString(),
      archivedAt: isoOrNull(i.archivedAt),
    };
  }
}

export class InstanceCreatedDto {
  @ApiProperty({ type: InstanceDto })
  instance: InstanceDto;

  @ApiProperty({ type: IssuedKeyDto, description: 'The first key, `Default`; its plaintext `key` is shown here only.' })
  key: IssuedKeyDto;
}
