import { Body, Controller, Headers, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { CurrentActor } from '../auth/principal';
import type { Actor } from '../domain/actor';
import { AppException } from '../common/errors/app.exception';
import { ApiErrors, ErrorResponseDto } from '../common/http/api-responses';
import type { RawBodyRequest } from '../common/http/json-body.middleware';
import { Unwrapped } from '../common/http/unwrapped';
import { ContainmentService, LeakLabel } from '../containment/containment.service';
import { GithubKeyStore } from './github-keys';
import { parseLeakReport } from './leak-report.parser';
import { GITHUB_SIGNATURE_SECURITY, SECRET_SCANNING_SECURITY } from './secret-scanning.constants';
import { GithubReportedTokenDto, OperatorReportedTokenDto, TokenLabelDto } from './secret-scanning.dto';
import { SecretScanningTokenGuard } from './secret-scanning-token.guard';

const LABELS_DESCRIPTION =
  'A bare JSON array (not the envelope): one `{token_hash, token_type, label}` per reported token, in the order given. Never says whose key it was.';

/**
 * Receivers of leaked-key reports (SPEC §15). Each door authenticates its reporter, reads the tokens
 * and hands them to ContainmentService; the answer is GitHub's label array, the one success answer
 * outside the envelope.
 */
@ApiTags('secret scanning')
@Controller('secret-scanning')
export class SecretScanningController {
  constructor(
    private readonly keys: GithubKeyStore,
    private readonly containment: ContainmentService,
  ) {}

  @Post('github')
  @HttpCode(200)
  @ApiSecurity(GITHUB_SIGNATURE_SECURITY)
  @ApiOperation({ summary: "GitHub's secret-scanning partner endpoint: contains every reported key of this service" })
  @ApiHeader({
    name: 'Github-Public-Key-Identifier',
    required: true,
    description: 'Which key of SECRET_SCANNING_GITHUB_KEYS_URL signed the body.',
  })
  @ApiHeader({
    name: 'Github-Public-Key-Signature',
    required: true,
    description: 'Base64 DER ECDSA P-256 SHA-256 signature over the raw body.',
  })
  @ApiBody({ type: GithubReportedTokenDto, isArray: true })
  @ApiOkResponse({ type: TokenLabelDto, isArray: true, description: LABELS_DESCRIPTION })
  @ApiResponse({
    status: 401,
    type: ErrorResponseDto,
    description: '`INVALID_SIGNATURE`: missing or bad signature, unknown key, or the keys could not be read. Nothing changed.',
  })
  @ApiErrors('VALIDATION_ERROR')
  async github(
    @Req() req: RawBodyRequest,
    @Headers('github-public-key-identifier') identifier: string | undefined,
    @Headers('github-public-key-signature') signature: string | undefined,
    @CurrentActor() actor: Actor,
  ): Promise<Unwrapped<LeakLabel[]>> {
    if (!(await this.keys.verify(req.rawBody ?? Buffer.alloc(0), identifier, signature))) throw new AppException('INVALID_SIGNATURE');
    const reports = parseLeakReport(req.body, 'github');
    return new Unwrapped(await this.containment.contain(reports, 'github', { ...actor, type: 'system', id: 'secret-scanning:github' }));
  }

  @Post('revoke')
  @HttpCode(200)
  @UseGuards(SecretScanningTokenGuard)
  @ApiBearerAuth(SECRET_SCANNING_SECURITY)
  @ApiOperation({ summary: "Your own scanner's endpoint (e.g. a self-managed GitLab's revocation hook): the same containment and answer" })
  @ApiBody({ type: OperatorReportedTokenDto, isArray: true })
  @ApiOkResponse({ type: TokenLabelDto, isArray: true, description: LABELS_DESCRIPTION })
  @ApiResponse({
    status: 401,
    type: ErrorResponseDto,
    description: '`UNAUTHORIZED` (no bearer token) or `INVALID_TOKEN` (not SECRET_SCANNING_TOKEN, or it is not set).',
  })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: '`RATE_LIMIT_EXCEEDED`: too many failed attempts from this address.' })
  @ApiErrors('VALIDATION_ERROR')
  async revoke(@Body() body: unknown, @CurrentActor() actor: Actor): Promise<Unwrapped<LeakLabel[]>> {
    const reports = parseLeakReport(body, 'operator');
    return new Unwrapped(await this.containment.contain(reports, 'operator', { ...actor, type: 'system', id: 'secret-scanning:operator' }));
  }
}
