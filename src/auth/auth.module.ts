import { Global, Module } from '@nestjs/common';
import { AdminAuthGuard } from './admin-auth.guard';
import { FailedAuthLimiter } from './failed-auth.limiter';
import { InstanceAuthGuard } from './instance-auth.guard';
import { InstanceKeyVerifier } from './instance-key.verifier';
import { ManagementTokenGuard } from './management-token.guard';
import { MicaKeyGuard } from './mica-key.guard';
import { MicaKeyVerifier } from './mica-key.verifier';
import { OperatorTokenVerifier } from './operator-token.verifier';

/** The guards and what they share; global so any feature module can put a guard on its routes. */
@Global()
@Module({
  providers: [
    AdminAuthGuard,
    OperatorTokenVerifier,
    FailedAuthLimiter,
    MicaKeyVerifier,
    MicaKeyGuard,
    ManagementTokenGuard,
    InstanceKeyVerifier,
    InstanceAuthGuard,
  ],
  exports: [
    AdminAuthGuard,
    OperatorTokenVerifier,
    FailedAuthLimiter,
    MicaKeyVerifier,
    MicaKeyGuard,
    ManagementTokenGuard,
    InstanceKeyVerifier,
    InstanceAuthGuard,
  ],
})
export class AuthModule {}
