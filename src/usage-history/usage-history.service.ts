import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { JsonLogger } from '../common/logging/json-logger';
import { DAY_MS, RateLimiterService } from '../rate-limit/rate-limiter.service';
import { micaDayRule } from '../auth/mica-key.guard';
import { Granularity, KeyUsageDto, MAX_RANGE_DAYS, MicaUsageDto, NO_REFUSALS, UsageBucketDto, UsageQueryDto, UsageTotalsDto } from './usage-history.dto';
import type { UsageKind } from '../usage/usage.tracker';

const PRUNE_INTERVAL_MS = 3_600_000;

interface Range {
  from: string;
  to: string;
  granularity: Granularity;
}

interface BucketRow {
  key_id: string;
  start: Date;
  requests: string;
  ip: string;
  service: string;
  rate: string;
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
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly limiter: RateLimiterService,
    private readonly logger: JsonLogger,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.prune().catch((e: Error) => this.logger.event('warn', 'usage history prune failed', { err: e.message })), PRUNE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Removes buckets older than USAGE_RETENTION_DAYS; answers how many. */
  async prune(): Promise<number> {
    const [, count] = await this.dataSource.query(`DELETE FROM key_usage_hourly WHERE hour < now() - $1::int * interval '1 day'`, [this.config.usage.retentionDays]);
    return typeof count === 'number' ? count : 0;
  }

  async instanceKey(scope: InstanceKeyUsageScope, keyId: string, query: UsageQueryDto): Promise<KeyUsageDto> {
    const range = resolveRange(query);
    const [column, value] = 'instanceRef' in scope ? ['i.ref', scope.instanceRef] : ['i.id', scope.instanceId];
    const [key] = await this.dataSource.query(
      `SELECT k.id, k.request_count FROM instance_keys k JOIN instances i ON i.id = k.instance_id WHERE k.id = $1 AND ${column} = $2`,
      [keyId, value],
    );
    if (!key) {
      if ('instanceRef' in scope && (await this.dataSource.query(`SELECT 1 FROM instances WHERE ref = $1`, [scope.instanceRef])).length === 0) {
        throw new AppException('NOT_FOUND', 'Instance not found.');
      }
      throw new AppException('NOT_FOUND', 'Key not found.');
    }
    const buckets = (await this.buckets('instance_key', [key.id], range)).get(key.id) ?? [];
    return { keyId: key.id, ...range, requestCount: Number(key.request_count), totals: totalsOf(buckets), buckets };
  }

  async micaDeveloper(developerId: string, query: UsageQueryDto): Promise<MicaUsageDto> {
    const range = resolveRange(query);
    const keys: Array<{ id: string; name: string; key_prefix: string; revoked_at: Date | null; request_count: string }> = await this.dataSource.query(
      `SELECT id, name, key_prefix, revoked_at, request_count FROM mica_keys WHERE developer_id = $1 ORDER BY created_at DESC, id DESC`,
      [developerId],
    );
    const byKey = await this.buckets('mica_key', keys.map((k) => k.id), range);
    const rule = micaDayRule(this.config);
    const result = await Promise.all(
      keys.map(async (k) => {
        const buckets = byKey.get(k.id) ?? [];
        const today = k.revoked_at === null ? await this.limiter.check(rule, k.id) : undefined;
        return {
          keyId: k.id,
          name: k.name,
          keyPrefix: k.key_prefix,
          isActive: k.revoked_at === null,
          ...range,
          requestCount: Number(k.request_count),
          totals: totalsOf(buckets),
          buckets,
          quota: today
            ? { limit: today.limit, used: today.limit - today.remaining, remaining: today.remaining, resetsAt: new Date((Math.floor(Date.now() / DAY_MS) + 1) * DAY_MS).toISOString() }
            : null,
        };
      }),
    );
    return { ...range, keys: result };
  }

  private async buckets(kind: UsageKind, keyIds: string[], range: Range): Promise<Map<string, UsageBucketDto[]>> {
    const out = new Map<string, UsageBucketDto[]>();
    if (keyIds.length === 0) return out;
    const rows: BucketRow[] = await this.dataSource.query(
      `SELECT key_id, date_trunc($5, hour, 'UTC') AS start, sum(requests)::bigint AS requests, sum(refused_ip_not_allowed)::bigint AS ip,
              sum(refused_service_not_enabled)::bigint AS service, sum(refused_rate_limited)::bigint AS rate
         FROM key_usage_hourly
        WHERE key_kind = $1 AND key_id = ANY($2::uuid[])
          AND hour >= ($3::date)::timestamp AT TIME ZONE 'UTC' AND hour < ($4::date + 1)::timestamp AT TIME ZONE 'UTC'
        GROUP BY key_id, 2 ORDER BY key_id, 2`,
      [kind, keyIds, range.from, range.to, range.granularity],
    );
    for (const row of rows) {
      let list = out.get(row.key_id);
      if (!list) out.set(row.key_id, (list = []));
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
  if ((end - start) / DAY_MS > MAX_RANGE_DAYS) throw new AppException('VALIDATION_ERROR', undefined, { to: [`from and to must be at most ${MAX_RANGE_DAYS} days apart`] });
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { from: iso(start), to: iso(end), granularity: query.granularity ?? 'day' };
}
