import { Module } from '@nestjs/common';
import { MicaDeveloperController, MicaRegistrationController } from './mica-accounts.controller';
import { MicaAccountsService } from './mica-accounts.service';
import { RegistrationLimitGuard } from './registration-limit.guard';

@Module({
  controllers: [MicaRegistrationController, MicaDeveloperController],
  providers: [MicaAccountsService, RegistrationLimitGuard],
  exports: [MicaAccountsService],
})
export class MicaAccountsModule {}
