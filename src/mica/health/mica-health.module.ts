import { Module } from '@nestjs/common';
import { MicaHealthController } from './mica-health.controller';
import { MicaHealthService } from './mica-health.service';

@Module({ controllers: [MicaHealthController], providers: [MicaHealthService], exports: [MicaHealthService] })
export class MicaHealthModule {}
