import { Injectable, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { RATE_LIMIT_STORE, RateLimitStore } from '../rate-limit/rate-limit.store';
import { FallbackRateLimitStore, RedisRateLimitStore } from '../rate-limit/redis-rate-limit.store';
import { KeyCheckCache } from '../key-cache/key-check.cache';
import { KeyInvalidationService } from '../key-cache/key-invalidation.service';

/**
 * Gauges prom-client defines as `*_total` although they are not counters; `promtool check metrics`
 * refuses them, and the same numbers are in their unsuffixed, per-type twins.
 */
const NON_COUNTER_TOTALS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options?: { max?: number };
}

/**
 * The service's Prometheus metrics (docs/metrics.md). Counters the request path increments are
 * fields here; the state of the cache, pool, Redis and invalidation channel is read at scrape time
 * from the components themselves (found through the module graph, so none of them depends on this).
 */
@Injectable()
export class MetricsService implements OnApplicationBootstrap {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly httpAborted = new Counter({
    name: 'http_requests_aborted_total',
    help: 'HTTP requests whose client closed the connection before the answer was sent, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    registers: [this.registry],
  });

  readonly authDecisions = new Counter({
    name: 'auth_decisions_total',
    help: 'Key checks by guard and outcome.',
    labelNames: ['guard', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly rateLimitRefusals = new Counter({
    name: 'trusset_rate_limit_refusals_total',
    help: 'Requests refused with 429, by limiter (instance-key, key-management, auth-failures, mica-registration, mica-key-management, mica-minute, mica-day).',
    labelNames: ['limiter'] as const,
    registers: [this.registry],
  });

  readonly refusalsPaced = new Counter({
    name: 'trusset_auth_refusals_paced_total',
    help: 'Verify answers 401 that yielded to admitted requests during a flood of 401s (AUTH_REFUSAL_PACE_MS).',
    registers: [this.registry],
  });

  readonly registerImports = new Counter({
    name: 'trusset_mica_register_imports_total',
    help: 'MiCA register imports by register, outcome (imported, unchanged, not_modified, rejected, failed) and trigger.',
    labelNames: ['register', 'outcome', 'trigger'] as const,
    registers: [this.registry],
  });

  constructor(@Optional() private readonly moduleRef?: ModuleRef) {
    collectDefaultMetrics({ register: this.registry });
    for (const name of NON_COUNTER_TOTALS) this.registry.removeSingleMetric(name);
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  onApplicationBootstrap(): void {
    const cache = this.find<KeyCheckCache>(KeyCheckCache);
    const invalidation = this.find<KeyInvalidationService>(KeyInvalidationService);
    const store = this.find<RateLimitStore>(RATE_LIMIT_STORE);
    const dataSource = this.find<DataSource>(getDataSourceToken());
    if (cache) this.cacheMetrics(cache, invalidation);
    if (dataSource) this.poolMetrics(dataSource);
    if (store) this.redisMetrics(store);
  }

  private find<T>(token: unknown): T | undefined {
    try {
      return this.moduleRef?.get<T>(token as string, { strict: false });
    } catch {
      return undefined;
    }
  }

  private cacheMetrics(cache: KeyCheckCache, invalidation: KeyInvalidationService | undefined): void {
    const pulledCounter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    pulledCounter('trusset_key_cache_hits_total', 'Key checks answered from the key-check cache.', () => cache.hits);
    pulledCounter(
      'trusset_key_cache_misses_total',
      'Key checks the cache could not answer (looked up in the database).',
      () => cache.misses,
    );
    pulledCounter(
      'trusset_key_cache_evictions_total',
      'Cache entries pushed out to make room (least recently used first).',
      () => cache.stats().evictions,
    );
    new Gauge({
      name: 'trusset_key_cache_entries',
      help: 'Entries in the key-check cache, by segment (found keys, unknown keys).',
      labelNames: ['segment'] as const,
      registers: [this.registry],
      collect() {
        const { found, unknown } = cache.stats();
        this.set({ segment: 'found' }, found);
        this.set({ segment: 'unknown' }, unknown);
      },
    });
    new Gauge({
      name: 'trusset_key_cache_suspended',
      help: '1 while the key-check cache is suspended (invalidations could be missed: every check goes to the database).',
      registers: [this.registry],
      collect() {
        this.set(cache.available ? 0 : 1);
      },
    });
    if (invalidation) {
      new Gauge({
        name: 'trusset_key_invalidation_listening',
        help: '1 while the LISTEN connection of the invalidation channel is up.',
        registers: [this.registry],
        collect() {
          this.set(invalidation.listening ? 1 : 0);
        },
      });
    }
  }

  private poolMetrics(dataSource: DataSource): void {
    const pool = () => (dataSource.isInitialized ? ((dataSource.driver as unknown as { master?: PgPool }).master ?? undefined) : undefined);
    new Gauge({
      name: 'trusset_db_pool_connections',
      help: 'Database pool connections by state (in_use, idle).',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const p = pool();
        this.set({ state: 'in_use' }, p ? p.totalCount - p.idleCount : 0);
        this.set({ state: 'idle' }, p ? p.idleCount : 0);
      },
    });
    new Gauge({
      name: 'trusset_db_pool_waiting_requests',
      help: 'Queries waiting for a pooled connection.',
      registers: [this.registry],
      collect() {
        this.set(pool()?.waitingCount ?? 0);
      },
    });
    new Gauge({
      name: 'trusset_db_pool_max_connections',
      help: 'Size of the database pool (DATABASE_POOL_SIZE; 1 on the embedded database).',
      registers: [this.registry],
      collect() {
        this.set(pool()?.options?.max ?? 0);
      },
    });
  }

  private redisMetrics(store: RateLimitStore): void {
    if (!(store instanceof FallbackRateLimitStore)) return;
    const redis = store.primary instanceof RedisRateLimitStore ? store.primary : undefined;
    new Gauge({
      name: 'trusset_redis_up',
      help: '1 while the Redis of the shared rate-limit counters (REDIS_URL) is connected.',
      registers: [this.registry],
      collect() {
        this.set(redis?.ready ? 1 : 0);
      },
    });
    new Gauge({
      name: 'trusset_rate_limit_fallback_active',
      help: '1 while rate limits are counted in this process because Redis failed (limits then hold per replica).',
      registers: [this.registry],
      collect() {
        this.set(store.degraded ? 1 : 0);
      },
    });
  }
}
