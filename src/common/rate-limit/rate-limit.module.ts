import { Global, Module } from '@nestjs/common';
import { MemoryRateLimitStore, RATE_LIMIT_STORE } from './rate-limit.store';
import { RateLimiterService } from './rate-limiter.service';

@Global()
@Module({
  providers: [{ provide: RATE_LIMIT_STORE, useFactory: () => new MemoryRateLimitStore() }, RateLimiterService],
  exports: [RateLimiterService, RATE_LIMIT_STORE],
})
export class RateLimitModule {}
