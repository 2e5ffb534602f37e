import { Global, Module } from '@nestjs/common';
import { AdminAuthGuard } from './admin-auth.guard';
import { FailedAuthLimiter } from './failed-auth.limiter';

/** The guards and what they share; global so any feature module can put a guard on its routes. */
@Global()
@Module({ providers: [AdminAuthGuard, FailedAuthLimiter], exports: [AdminAuthGuard, FailedAuthLimiter] })
export class AuthModule {}
