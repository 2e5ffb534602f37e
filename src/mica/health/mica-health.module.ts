import { Module } from '@nestjs/common';
import { MicaRegisterModule } from '../register/register.module';
import { MicaHealthController } from './mica-health.controller';
import { MicaHealthService } from './mica-health.service';

@Module({
  imports: [MicaRegisterModule],
  controllers: [MicaHealthController],
  providers: [MicaHealthService],
  exports: [MicaHealthService],
})
export class MicaHealthModule {}
