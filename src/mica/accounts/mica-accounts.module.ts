import { Module } from '@nestjs/common';
import { MicaDeveloperController, MicaRegistrationController } from './mica-accounts.controller';
import { MicaAccountRepository } from './mica-account.repository';
import { MicaAccountsService } from './mica-accounts.service';
import { RegistrationLimitGuard } from './registration-limit.guard';

@Module({
  controllers: [MicaRegistrationController, MicaDeveloperController],
  providers: [MicaAccountsService, MicaAccountRepository, RegistrationLimitGuard],
  exports: [MicaAccountsService, MicaAccountRepository],
})
export class MicaAccountsModule {}
