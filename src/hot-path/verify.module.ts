import { Module } from '@nestjs/common';
import { VerifyController } from './verify.controller';

/** The verify route as Nest declares it (its OpenAPI entry); configureApp answers it ahead of Nest's router. */
@Module({ controllers: [VerifyController] })
export class VerifyModule {}
