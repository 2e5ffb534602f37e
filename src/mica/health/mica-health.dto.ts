import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class MicaHealthDto {
  @ApiProperty({ example: 'ok' })
  status: string;

  @ApiProperty({ example: 0 })
  totalIssuers: number;

  @ApiPropertyOptional({ nullable: true, description: 'When the register data was last imported.' })
  lastSync: string | null;

  @ApiProperty({ example: 'v1' })
  apiVersion: string;
}
