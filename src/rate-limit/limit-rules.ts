import type { AppConfig } from '../config/app.config';
import { DAY_MS, LimitRule, MINUTE_MS } from './rate-limiter.service';

/** Every limit of the service (SPEC §5, §9), by what it protects. */
export interface LimitRules {
  /** An instance key's requests per minute (a key's own limit may only lower it). */
  perKey: LimitRule;
  /** An instance key's self-service key changes per minute, per acting key. */
  keyManagement: LimitRule;
  /** A MiCA developer's management-token requests per minute. */
  micaKeyManagement: LimitRule;
  /** A MiCA key's data requests per minute. */
  micaMinute: LimitRule;
  /** A MiCA key's data requests per UTC day; the usage history reads today's count from it. */
  micaDay: LimitRule;
  /** Self-registrations per client address per minute, every attempt counted. */
  registration: LimitRule;
  /** Failed authentications per client address per minute (valid credentials are never counted). */
  failedAuth: LimitRule;
}

/** The rules as configured (RATE_LIMIT_*, MICA_RATE_LIMIT_*); a rule's name is its counter's key in the store, so names never change. */
export function limitRules(config: AppConfig): LimitRules {
  const limits = config.rateLimits;
  return {
    perKey: { name: 'instance-key', limit: limits.perKeyPerMinute, windowMs: MINUTE_MS, batch: limits.perKeyBatch },
    keyManagement: { name: 'key-management', limit: limits.keyManagementPerMinute, windowMs: MINUTE_MS },
    micaKeyManagement: { name: 'mica-key-management', limit: limits.keyManagementPerMinute, windowMs: MINUTE_MS },
    micaMinute: { name: 'mica-minute', limit: limits.micaPerMinute, windowMs: MINUTE_MS },
    micaDay: { name: 'mica-day', limit: limits.micaPerDay, windowMs: DAY_MS },
    registration: { name: 'mica-registration', limit: limits.strictPerMinute, windowMs: MINUTE_MS, perAddress: true },
    failedAuth: { name: 'auth-failures', limit: limits.strictPerMinute, windowMs: MINUTE_MS, perAddress: true },
  };
}

/** The injection token of the configured LimitRules (RateLimitModule). */
export const LIMIT_RULES = Symbol('LIMIT_RULES');
