import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { JsonLogger } from '../common/logging/json-logger';
import { LIMIT_RULES, limitRules } from './limit-rules';
import { RATE_LIMIT_STORE, RateLimitStore } from './rate-limit.store';
import { RateLimiterService } from './rate-limiter.service';
import { createRateLimitStore } from './redis-rate-limit.store';

class RateLimitStoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close?.();
  }
}

/** Counters in Redis when REDIS_URL is set (shared by all replicas), else in this process; and the configured limits (LIMIT_RULES). */
@Global()
@Module({
  providers: [
    {
      provide: RATE_LIMIT_STORE,
      inject: [APP_CONFIG, JsonLogger],
      useFactory: (config: AppConfig, logger: JsonLogger) => createRateLimitStore(config.redisUrl, logger),
    },
    { provide: LIMIT_RULES, inject: [APP_CONFIG], useFactory: limitRules },
    RateLimitStoreLifecycle,
    RateLimiterService,
  ],
  exports: [RateLimiterService, RATE_LIMIT_STORE, LIMIT_RULES],
})
export class RateLimitModule {}
