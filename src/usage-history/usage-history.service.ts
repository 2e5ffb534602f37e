import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { JsonLogger } from '../common/logging/json-logger';
import { DAY_MS, RateLimiterService } from '../rate-limit/rate-limiter.service';
import { limitRules } from '../rate-limit/limit-rules';
import type { Granularity } from '../domain/usage-granularity';
import { KeyUsageDto, MAX_RANGE_DAYS, MicaUsageDto, NO_REFUSALS, UsageBucketDto, UsageQueryDto, UsageTotalsDto } from './usage-history.dto';
import { HistoryKind, UsageRepository } from '../usage/usage.repository';

const PRUNE_INTERVAL_MS = 3_600_000;

interface Range {
  from: string;
  to: string;
  granularity: Granularity;
}

/** Which key, as the route's door sees it: the admin names the instance by ref, an instance key is bound to its instance. */
export type InstanceKeyUsageScope = { instanceRef: string } | { instanceId: string };

/**
 * SPEC §17: the hourly buckets UsageTracker writes, read by hour or UTC day, and pruned past
 * USAGE_RETENTION_DAYS. A request is counted by the replica that answered it, and replicas' flushes
 * add up in the same rows.
 */
@Injectable()
export class UsageHistoryService implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly usage: UsageRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly limiter: RateLimiterService,
    private readonly logger: JsonLogger,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(
      () => void this.prune().catch((e: Error) => this.logger.event('warn', 'usage history prune failed', { err: e.message })),
      PRUNE_INTERVAL_MS,
    );
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Removes buckets older than USAGE_RETENTION_DAYS; answers how many. */
  async prune(): Promise<number> {
    return this.usage.prune(this.config.usage.retentionDays);
  }

  async instanceKey(scope: InstanceKeyUsageScope, keyId: string, query: UsageQueryDto): Promise<KeyUsageDto> {
    const range = resolveRange(query);
    const key = await this.usage.instanceKey(scope, keyId);
    if (!key) {
      if ('instanceRef' in scope && !(await this.usage.instanceExists(scope.instanceRef)))
        throw new AppException('NOT_FOUND', 'Instance not found.');
      throw new AppException('NOT_FOUND', 'Key not found.');
    }
    const buckets = (await this.buckets('instance_key', [key.id], range)).get(key.id) ?? [];
    return { keyId: key.id, ...range, requestCount: Number(key.requestCount), totals: totalsOf(buckets), buckets };
  }

  async micaDeveloper(developerId: string, query: UsageQueryDto): Promise<MicaUsageDto> {
    const range = resolveRange(query);
    const keys = await this.usage.micaKeys(developerId);
    const byKey = await this.buckets(
      'mica_key',
      keys.map((k) => k.id),
      range,
    );
    const rule = limitRules(this.config).micaDay;
    const result = await Promise.all(
      keys.map(async (k) => {
        const buckets = byKey.get(k.id) ?? [];
        const today = k.revokedAt === null ? await this.limiter.check(rule, k.id) : undefined;
        return {
          keyId: k.id,
          name: k.name,
          keyPrefix: k.keyPrefix,
          isActive: k.revokedAt === null,
          ...range,
          requestCount: Number(k.requestCount),
          totals: totalsOf(buckets),
          buckets,
          quota: today
            ? {
                limit: today.limit,
                used: today.limit - today.remaining,
                remaining: today.remaining,
                resetsAt: new Date((Math.floor(Date.now() / DAY_MS) + 1) * DAY_MS).toISOString(),
              }
            : null,
        };
      }),
    );
    return { ...range, keys: result };
  }

  private async buckets(kind: HistoryKind, keyIds: string[], range: Range): Promise<Map<string, UsageBucketDto[]>> {
    const out = new Map<string, UsageBucketDto[]>();
    if (keyIds.length === 0) return out;
    const rows = await this.usage.buckets(kind, keyIds, range.from, range.to, range.granularity);
    for (const row of rows) {
      let list = out.get(row.keyId);
      if (!list) out.set(row.keyId, (list = []));
      list.push({
        start: new Date(row.start).toISOString(),
        requests: Number(row.requests),
        refused: { IP_NOT_ALLOWED: Number(row.ip), SERVICE_NOT_ENABLED: Number(row.service), RATE_LIMIT_EXCEEDED: Number(row.rate) },
      });
    }
    return out;
  }
}

function totalsOf(buckets: UsageBucketDto[]): UsageTotalsDto {
  const totals = { requests: 0, refused: NO_REFUSALS() };
  for (const b of buckets) {
    totals.requests += b.requests;
    for (const reason of Object.keys(b.refused) as Array<keyof typeof b.refused>) totals.refused[reason] += b.refused[reason];
  }
  return totals;
}

/** `from`/`to` as real UTC dates, `from` ≤ `to`, at most 400 days apart; defaults: the 30 days up to today. */
export function resolveRange(query: UsageQueryDto, now = Date.now()): Range {
  const details: Record<string, string[]> = {};
  const day = (text: string | undefined, field: string): number | undefined => {
    if (text === undefined) return undefined;
    const at = Date.parse(`${text}T00:00:00Z`);
    if (Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== text) {
      details[field] = [`${field} must be a valid date (YYYY-MM-DD)`];
      return undefined;
    }
    return at;
  };
  const from = day(query.from, 'from');
  const to = day(query.to, 'to');
  if (Object.keys(details).length > 0) throw new AppException('VALIDATION_ERROR', undefined, details);
  const end = to ?? Math.floor(now / DAY_MS) * DAY_MS;
  const start = from ?? end - 29 * DAY_MS;
  if (start > end) throw new AppException('VALIDATION_ERROR', undefined, { from: ['from must not be after to'] });
  if ((end - start) / DAY_MS > MAX_RANGE_DAYS)
    throw new AppException('VALIDATION_ERROR', undefined, { to: [`from and to must be at most ${MAX_RANGE_DAYS} days apart`] });
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { from: iso(start), to: iso(end), granularity: query.granularity ?? 'day' };
}
