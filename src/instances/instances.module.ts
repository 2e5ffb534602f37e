import { Module } from '@nestjs/common';
import { InstanceKeysModule } from '../instance-keys/instance-keys.module';
import { InstancesController } from './instances.controller';
import { InstancesService } from './instances.service';

@Module({ imports: [InstanceKeysModule], controllers: [InstancesController], providers: [InstancesService], exports: [InstancesService] })
export class InstancesModule {}
