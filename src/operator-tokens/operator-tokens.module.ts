import { Module } from '@nestjs/common';
import { OperatorTokensController } from './operator-tokens.controller';
import { OperatorTokenRepository } from './operator-token.repository';
import { OperatorTokensService } from './operator-tokens.service';

/** Operator tokens under /api/admin/tokens; their check (OperatorTokenVerifier) lives with the guards in AuthModule. */
@Module({ controllers: [OperatorTokensController], providers: [OperatorTokensService, OperatorTokenRepository] })
export class OperatorTokensModule {}
