import { Global, Module } from '@nestjs/common';
import { UsageRepository } from './usage.repository';
import { UsageTracker } from './usage.tracker';

@Global()
@Module({ providers: [UsageRepository, UsageTracker], exports: [UsageTracker, UsageRepository] })
export class UsageModule {}
