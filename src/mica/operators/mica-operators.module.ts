import { Module } from '@nestjs/common';
import { MicaAccountsModule } from '../accounts/mica-accounts.module';
import { MicaOperatorsController } from './mica-operators.controller';
import { MicaOperatorsService } from './mica-operators.service';

@Module({
  imports: [MicaAccountsModule],
  controllers: [MicaOperatorsController],
  providers: [MicaOperatorsService],
})
export class MicaOperatorsModule {}
