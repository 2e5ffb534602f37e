import { Module } from '@nestjs/common';
import { BreakGlassController } from './break-glass.controller';
import { ContainmentService } from './containment.service';

@Module({
  controllers: [BreakGlassController],
  providers: [ContainmentService],
  exports: [ContainmentService],
})
export class ContainmentModule {}
