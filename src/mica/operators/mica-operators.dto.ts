import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { PaginationQueryDto } from '../../common/http/pagination.dto';
import { NoControlChars, Trim } from '../../common/http/text';
import { ACCOUNT_STATUSES, AccountStatus } from '../../domain/mica-account-status';
import { MicaKeyDto } from '../accounts/mica-account.dto';

export class ListDevelopersQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ enum: ACCOUNT_STATUSES })
  @IsOptional()
  @IsIn(ACCOUNT_STATUSES)
  status?: AccountStatus;

  @ApiPropertyOptional({ maxLength: 254, description: 'Case-insensitive substring of the email or the name, or an account id.' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  @NoControlChars()
  search?: string;
}

export class SuspendDeveloperDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 500,
    example: 'Automated scraping beyond the free tier',
    description: 'Recorded on the account and in the audit trail; keep personal data out of it.',
  })
  @Trim()
  @IsString()
  @Length(1, 500)
  @NoControlChars()
  reason: string;
}

export class OperatorDeveloperDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: String, nullable: true, example: 'ada@example.com', description: 'null once erased.' }) email: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'Ada Lovelace', description: 'null once erased.' }) name: string | null;
  @ApiProperty({ enum: ACCOUNT_STATUSES }) status: AccountStatus;
  @ApiProperty() createdAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) tokenRotatedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) suspendedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) suspensionReason: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) erasedAt: string | null;
  @ApiProperty({ description: 'Keys not revoked.' }) activeKeys: number;
  @ApiProperty({ description: 'Admitted data requests over all keys (lags by up to USAGE_FLUSH_INTERVAL_MS).' }) requestCount: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastUsedAt: string | null;
}

export class OperatorDeveloperDetailDto {
  @ApiProperty({ type: OperatorDeveloperDto }) developer: OperatorDeveloperDto;
  @ApiProperty({ type: [MicaKeyDto], description: 'The 100 most recent keys, newest first; never a secret.' }) keys: MicaKeyDto[];
}
