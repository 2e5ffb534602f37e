import { Module } from '@nestjs/common';
import { BreakGlassController } from './break-glass.controller';
import { ContainmentRepository } from './containment.repository';
import { ContainmentService } from './containment.service';

@Module({
  controllers: [BreakGlassController],
  providers: [ContainmentService, ContainmentRepository],
  exports: [ContainmentService],
})
export class ContainmentModule {}
