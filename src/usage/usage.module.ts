import { Global, Module } from '@nestjs/common';
import { UsageTracker } from './usage.tracker';

@Global()
@Module({ providers: [UsageTracker], exports: [UsageTracker] })
export class UsageModule {}
