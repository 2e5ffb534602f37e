import { ApiProperty } from '@nestjs/swagger';

export class MicaHealthDto {
  @ApiProperty({ example: 'ok' })
  status: string;

  @ApiProperty({ type: 'integer', example: 0 })
  totalIssuers: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the register data was last imported.' })
  lastSync: string | null;

  @ApiProperty({ example: 'v1' })
  apiVersion: string;
}
