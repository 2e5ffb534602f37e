import { Module } from '@nestjs/common';
import { MicaOperatorsController } from './mica-operators.controller';
import { MicaOperatorsService } from './mica-operators.service';

@Module({
  controllers: [MicaOperatorsController],
  providers: [MicaOperatorsService],
})
export class MicaOperatorsModule {}
