import { Inject, Injectable } from '@nestjs/common';
import { AppException } from '../common/errors/app.exception';
import { RATE_LIMIT_STORE, RateLimitStore } from './rate-limit.store';

export interface LimitRule {
  name: string;
  /** 0 turns the limiter off. */
  limit: number;
  windowMs: number;
  /** Counted per client address: a store that must make room may forget these first (never the others). */
  perAddress?: boolean;
  /**
   * Counts may be settled with a shared store (Redis) in batches of up to this many per replica
   * (BatchedCounters): at most limit + (replicas − 1) × (batch − 1) pass per window. Never more
   * than a twentieth of the limit, so a small limit stays (nearly) exact. Absent or 1: exact.
   */
  batch?: number;
}

export interface LimitState {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
  exceeded: boolean;
  /** The rule's name: which limiter this is. */
  rule: string;
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/**
 * Fixed windows aligned to the epoch, so a one-day window is exactly one UTC day and every replica
 * sharing a store agrees on the window boundaries.
 */
@Injectable()
export class RateLimiterService {
  constructor(@Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore) {}

  /** Counts one request against the rule and reports the state after it. */
  async consume(rule: LimitRule, id: string): Promise<LimitState | undefined> {
    if (rule.limit <= 0) return undefined;
    const { key, resetSeconds } = this.window(rule, id);
    const batch = rule.batch ? Math.max(1, Math.min(rule.batch, Math.floor(rule.limit / 20))) : 1;
    const count =
      batch > 1 && this.store.incrementBatched
        ? await this.store.incrementBatched(key, rule.windowMs, batch)
        : await this.store.increment(key, rule.windowMs, rule.perAddress ? { evictable: true } : undefined);
    return { limit: rule.limit, remaining: Math.max(0, rule.limit - count), resetSeconds, exceeded: count > rule.limit, rule: rule.name };
  }

  /** Reports whether the rule is already exhausted, without counting this request. */
  async check(rule: LimitRule, id: string): Promise<LimitState | undefined> {
    if (rule.limit <= 0) return undefined;
    const { key, resetSeconds } = this.window(rule, id);
    const count = await this.store.peek(key);
    return { limit: rule.limit, remaining: Math.max(0, rule.limit - count), resetSeconds, exceeded: count >= rule.limit, rule: rule.name };
  }

  private window(rule: LimitRule, id: string): { key: string; resetSeconds: number } {
    const now = Date.now();
    const index = Math.floor(now / rule.windowMs);
    const resetSeconds = Math.max(1, Math.ceil(((index + 1) * rule.windowMs - now) / 1000));
    return { key: `rl:${rule.name}:${id}:${index}`, resetSeconds };
  }
}

export function rateLimitHeaders(state: LimitState, suffix = ''): Record<string, string> {
  return {
    [`X-RateLimit-Limit${suffix}`]: String(state.limit),
    [`X-RateLimit-Remaining${suffix}`]: String(state.remaining),
    [`X-RateLimit-Reset${suffix}`]: String(state.resetSeconds),
  };
}

export function rateLimitExceeded(state: LimitState, headers: Record<string, string> = rateLimitHeaders(state)): AppException {
  const refusal = new AppException('RATE_LIMIT_EXCEEDED', undefined, undefined, { ...headers, 'Retry-After': String(state.resetSeconds) });
  refusal.limiter = state.rule;
  return refusal;
}
