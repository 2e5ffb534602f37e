import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class GithubReportedTokenDto {
  @ApiProperty({ description: 'The string found.' }) token: string;
  @ApiProperty({ example: 'trusset_instance', description: 'The secret type registered with GitHub; echoed in the answer.' }) type: string;
  @ApiPropertyOptional({ example: 'https://github.com/octocat/Hello-World/blob/1234/foo/bar.txt' }) url?: string;
  @ApiPropertyOptional({ example: 'content' }) source?: string;
}

export class OperatorReportedTokenDto {
  @ApiProperty() token: string;
  @ApiPropertyOptional({ example: 'trusset_instance' }) type?: string;
  @ApiPropertyOptional({
    example: 'https://gitlab.example.com/group/project/-/blob/main/.env',
    description: 'Where it was found; recorded in the audit event.',
  })
  location?: string;
}

export class TokenLabelDto {
  @ApiProperty({ description: 'SHA-256 of the reported token, lowercase hex.' }) token_hash: string;
  @ApiProperty({ type: String, nullable: true, description: 'The reported `type`, echoed.' }) token_type: string | null;
  @ApiProperty({
    enum: ['true_positive', 'false_positive'],
    description: '`true_positive`: a key of this service (contained now, or already final).',
  })
  label: 'true_positive' | 'false_positive';
}
