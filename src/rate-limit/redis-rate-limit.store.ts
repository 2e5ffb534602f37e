import Redis from 'ioredis';
import type { JsonLogger } from '../common/logging/json-logger';
import { BatchedCounters } from './batched-counters';
import { MemoryRateLimitStore, RateLimitStore, SharedRateLimitStore } from './rate-limit.store';

// INCR and the first PEXPIRE in one step, so a crash between them cannot leave a counter without expiry.
const INCREMENT = `local c = redis.call('INCR', KEYS[1]) if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return c`;
// The batched form: INCRBY n, and the expiry when this call created the counter.
const INCREMENT_BY = `local c = redis.call('INCRBY', KEYS[1], ARGV[1]) if c == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return c`;

/** Counters shared by every replica through Redis. */
export class RedisRateLimitStore implements SharedRateLimitStore {
  private readonly redis: Redis;

  constructor(url: string, commandTimeoutMs = 200) {
    this.redis = new Redis(url, {
      // Fail at once while disconnected rather than queue: the caller falls back instead of waiting.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: commandTimeoutMs,
      connectTimeout: 2000,
      lazyConnect: false,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    // Errors are reported through the failed commands; without a listener ioredis would log to stderr.
    this.redis.on('error', () => undefined);
  }

  async increment(key: string, windowMs: number): Promise<number> {
    return Number(await this.redis.eval(INCREMENT, 1, key, String(windowMs)));
  }

  async incrementBy(key: string, n: number, windowMs: number): Promise<number> {
    return Number(await this.redis.eval(INCREMENT_BY, 1, key, String(n), String(windowMs)));
  }

  async peek(key: string): Promise<number> {
    return Number((await this.redis.get(key)) ?? 0);
  }

  close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }

  /** Connected and ready for commands (for the trusset_redis_up metric). */
  get ready(): boolean {
    return this.redis.status === 'ready';
  }
}

/**
 * Redis first; while Redis fails, this process's own counters. Limits then hold per replica instead
 * of per deployment (looser by at most the replica count), and a key check never fails because the
 * limiter's store is down.
 */
export class FallbackRateLimitStore implements RateLimitStore {
  private lastWarning = 0;
  degraded = false;
  private readonly batched: BatchedCounters;

  constructor(
    readonly primary: SharedRateLimitStore,
    private readonly fallback: RateLimitStore,
    private readonly logger: JsonLogger,
  ) {
    this.batched = new BatchedCounters(
      (key, n, windowMs) => this.primary.incrementBy(key, n, windowMs),
      (e) => this.failed(e),
    );
  }

  /** Counted here, settled with Redis in batches (BatchedCounters); its own fallback is built in. */
  incrementBatched(key: string, windowMs: number, batch: number): Promise<number> {
    return this.batched.increment(key, windowMs, batch);
  }

  increment(key: string, windowMs: number, options?: { evictable?: boolean }): Promise<number> {
    return this.attempt(
      () => this.primary.increment(key, windowMs, options),
      () => this.fallback.increment(key, windowMs, options),
    );
  }

  peek(key: string): Promise<number> {
    return this.attempt(
      () => this.primary.peek(key),
      () => this.fallback.peek(key),
    );
  }

  async close(): Promise<void> {
    await this.primary.close?.();
  }

  private async attempt(primary: () => Promise<number>, fallback: () => Promise<number>): Promise<number> {
    try {
      const value = await primary();
      if (this.degraded) {
        this.degraded = false;
        this.logger.event('info', 'rate-limit store recovered: counting in Redis again');
      }
      return value;
    } catch (e) {
      this.failed(e);
      return fallback();
    }
  }

  private failed(e: unknown): void {
    this.degraded = true;
    const now = Date.now();
    if (now - this.lastWarning > 10_000) {
      this.lastWarning = now;
      this.logger.event('warn', 'rate-limit store unavailable: counting in this process', { err: (e as Error).message });
    }
  }
}

export function createRateLimitStore(redisUrl: string | undefined, logger: JsonLogger): RateLimitStore {
  const memory = new MemoryRateLimitStore();
  return redisUrl ? new FallbackRateLimitStore(new RedisRateLimitStore(redisUrl), memory, logger) : memory;
}
