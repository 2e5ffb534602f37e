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

  /** Counts one request against the rule, writes its headers on `res` (when given) and throws the 429 when it is spent. */
  async enforce(rule: LimitRule, id: string, res?: HeaderSink): Promise<void> {
    enforceLimits(res, [await this.consume(rule, id), '']);
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

/** Which window a limit's headers speak of: none for a credential with one limit, `-Minute` and `-Day` for a MiCA key's two. */
export type LimitWindowSuffix = '' | '-Minute' | '-Day';

/** The X-RateLimit-* header names (limit, remaining, reset) by window: the one place they are spelled. */
const HEADER_NAMES: Record<LimitWindowSuffix, readonly [string, string, string]> = {
  '': ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
  '-Minute': ['X-RateLimit-Limit-Minute', 'X-RateLimit-Remaining-Minute', 'X-RateLimit-Reset-Minute'],
  '-Day': ['X-RateLimit-Limit-Day', 'X-RateLimit-Remaining-Day', 'X-RateLimit-Reset-Day'],
};

export const RETRY_AFTER = 'Retry-After';

/** Appends a limit's headers to a flat name/value list, as node's writeHead takes them (the raw lane, src/hot-path). */
export function appendLimitHeaders(into: string[], state: LimitState, suffix: LimitWindowSuffix = ''): void {
  const [limit, remaining, reset] = HEADER_NAMES[suffix];
  into.push(limit, String(state.limit), remaining, String(state.remaining), reset, String(state.resetSeconds));
}

export function rateLimitHeaders(state: LimitState, suffix: LimitWindowSuffix = ''): Record<string, string> {
  const [limit, remaining, reset] = HEADER_NAMES[suffix];
  return { [limit]: String(state.limit), [remaining]: String(state.remaining), [reset]: String(state.resetSeconds) };
}

export function rateLimitExceeded(state: LimitState, headers: Record<string, string> = rateLimitHeaders(state)): AppException {
  const refusal = new AppException('RATE_LIMIT_EXCEEDED', undefined, undefined, { ...headers, [RETRY_AFTER]: String(state.resetSeconds) });
  refusal.limiter = state.rule;
  return refusal;
}

/** Where a guard writes a limit's headers (an Express response). */
export interface HeaderSink {
  setHeader(name: string, value: string): unknown;
}

/**
 * Answers what the limits of a request say: their headers on `res` (when given; a limit that only
 * speaks when it refuses passes none), and when any is spent the 429 of the one that frees up last,
 * with every header. A rule that is off (no state) says nothing.
 */
export function enforceLimits(res: HeaderSink | undefined, ...limits: Array<readonly [LimitState | undefined, LimitWindowSuffix]>): void {
  const headers: Record<string, string> = {};
  let refusing: LimitState | undefined;
  for (const [state, suffix] of limits) {
    if (!state) continue;
    Object.assign(headers, rateLimitHeaders(state, suffix));
    if (state.exceeded && (!refusing || state.resetSeconds > refusing.resetSeconds)) refusing = state;
  }
  if (res) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (refusing) throw rateLimitExceeded(refusing, headers);
}
