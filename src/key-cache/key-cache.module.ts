import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { CachedDigestVerifiers } from './cached-digest.verifier';
import { KeyCheckCache } from './key-check.cache';
import { KeyInvalidationService } from './key-invalidation.service';

@Global()
@Module({
  providers: [
    {
      provide: KeyCheckCache,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new KeyCheckCache({ maxEntries: config.cache.maxEntries, maxUnknownEntries: config.cache.maxUnknownEntries }),
    },
    KeyInvalidationService,
    CachedDigestVerifiers,
  ],
  exports: [KeyCheckCache, KeyInvalidationService, CachedDigestVerifiers],
})
export class KeyCacheModule {}
