import { Module } from '@nestjs/common';
import { AdminKeyUsageController, MicaUsageController, SelfServiceKeyUsageController } from './usage-history.controller';
import { UsageHistoryService } from './usage-history.service';

@Module({
  controllers: [SelfServiceKeyUsageController, AdminKeyUsageController, MicaUsageController],
  providers: [UsageHistoryService],
  exports: [UsageHistoryService],
})
export class UsageHistoryModule {}
