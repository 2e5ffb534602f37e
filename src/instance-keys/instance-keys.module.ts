import { Module } from '@nestjs/common';
import { AdminInstanceKeysController } from './admin-instance-keys.controller';
import { InstanceKeyRepository } from './instance-key.repository';
import { InstanceKeysService } from './instance-keys.service';
import { KeyManagementLimitGuard } from '../auth/key-management.limit.guard';
import { SelfServiceKeysController } from './self-service-keys.controller';

@Module({
  controllers: [AdminInstanceKeysController, SelfServiceKeysController],
  providers: [InstanceKeyRepository, InstanceKeysService, KeyManagementLimitGuard],
  exports: [InstanceKeysService],
})
export class InstanceKeysModule {}
