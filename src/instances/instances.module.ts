import { Module } from '@nestjs/common';
import { InstanceKeysModule } from '../instance-keys/instance-keys.module';
import { InstancesController } from './instances.controller';
import { InstanceRepository } from './instance.repository';
import { InstancesService } from './instances.service';

@Module({
  imports: [InstanceKeysModule],
  controllers: [InstancesController],
  providers: [InstanceRepository, InstancesService],
  exports: [InstancesService],
})
export class InstancesModule {}
