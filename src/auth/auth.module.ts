import { Global, Module } from '@nestjs/common';
import { AdminAuthGuard } from './admin-auth.guard';
import { FailedAuthLimiter } from './failed-auth.limiter';
import { InstanceAuthGuard } from './instance-auth.guard';
import { InstanceKeyVerifier } from './instance-key.verifier';
import { ManagementTokenGuard } from './management-token.guard';
import { MicaKeyGuard } from './mica-key.guard';
import { MicaKeyVerifier } from './mica-key.verifier';
import { OperatorTokenVerifier } from './operator-token.verifier';

// Every one is also exported: a feature module's guard or the raw lane may need any of them.
const CREDENTIAL_CHECKS = [
  AdminAuthGuard,
  OperatorTokenVerifier,
  FailedAuthLimiter,
  MicaKeyVerifier,
  MicaKeyGuard,
  ManagementTokenGuard,
  InstanceKeyVerifier,
  InstanceAuthGuard,
];

/** The guards and what they share; global so any feature module can put a guard on its routes. */
@Global()
@Module({ providers: CREDENTIAL_CHECKS, exports: CREDENTIAL_CHECKS })
export class AuthModule {}
