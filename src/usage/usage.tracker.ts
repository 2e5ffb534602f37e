import { BeforeApplicationShutdown, Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { JsonLogger } from '../common/logging/json-logger';
import { Transactions } from '../database/transactions';
import { CounterTable, HistoryKind, HourCounts, UsageRepository } from './usage.repository';

/** Which table a usage counter lives in. */
const TABLES = { instance_key: 'instance_keys', mica_key: 'mica_keys', operator_token: 'operator_tokens' } as const satisfies Record<
  string,
  CounterTable
>;

export type UsageKind = keyof typeof TABLES;
const HISTORY_KINDS: ReadonlySet<UsageKind> = new Set<HistoryKind>(['instance_key', 'mica_key']);
const hasHistory = (kind: UsageKind): kind is HistoryKind => HISTORY_KINDS.has(kind);

/** Why a found key's request was refused; each has its own column in key_usage_hourly. */
export const REFUSAL_REASONS = ['IP_NOT_ALLOWED', 'SERVICE_NOT_ENABLED', 'RATE_LIMIT_EXCEEDED'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

const HOUR_MS = 3_600_000;

/** One key's counts in one UTC hour: admitted requests, then refusals in REFUSAL_REASONS order. */
type HourTally = [requests: number, ...refused: number[]];

interface Tally {
  count: number;
  lastUsedAt: number;
  hours: Map<number, HourTally>;
}

/**
 * Key usage (last use, request count, and the hourly history of SPEC §17) counted in memory and
 * written every USAGE_FLUSH_INTERVAL_MS and at shutdown, so a key check never waits on a write. Per
 * table, one transaction adds the admitted requests to the key's request_count and to its hourly
 * buckets together, so the buckets always sum to request_count. Timestamps only move forward; a
 * failed flush keeps its tallies for the next one; replicas add up.
 */
@Injectable()
export class UsageTracker implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private pending = new Map<UsageKind, Map<string, Tally>>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly usage: UsageRepository,
    private readonly tx: Transactions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: JsonLogger,
    private readonly adapterHost?: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.usage.flushIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /**
   * The last flush must come after the last request: requests in flight when shutdown begins still
   * record usage when they finish. Nest would drain the HTTP server only after this hook, and
   * TypeORM destroys the DataSource in the first onApplicationShutdown hook, so a flush in either
   * place loses those requests. Hence: stop accepting, let in-flight requests finish, then flush.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    const server = this.adapterHost?.httpAdapter?.getHttpServer() as Server | undefined;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.flush();
  }

  /** An admitted request: counts for request_count, lastUsedAt and the hour's `requests`. */
  record(kind: UsageKind, id: string, at = Date.now()): void {
    const tally = this.tally(kind, id);
    tally.count++;
    if (at > tally.lastUsedAt) tally.lastUsedAt = at;
    this.hour(tally, at)[0]++;
  }

  /** A found key's request refused for `reason`: only the hour's refusals move. */
  refuse(kind: UsageKind, id: string, reason: RefusalReason, at = Date.now()): void {
    this.hour(this.tally(kind, id), at)[1 + REFUSAL_REASONS.indexOf(reason)]++;
  }

  private tally(kind: UsageKind, id: string): Tally {
    let tallies = this.pending.get(kind);
    if (!tallies) this.pending.set(kind, (tallies = new Map<string, Tally>()));
    let tally = tallies.get(id);
    if (!tally) tallies.set(id, (tally = { count: 0, lastUsedAt: 0, hours: new Map() }));
    return tally;
  }

  private hour(tally: Tally, at: number): HourTally {
    const start = Math.floor(at / HOUR_MS) * HOUR_MS;
    let counts = tally.hours.get(start);
    if (!counts) tally.hours.set(start, (counts = [0, ...REFUSAL_REASONS.map(() => 0)]));
    return counts;
  }

  private merge(kind: UsageKind, tallies: Map<string, Tally>): void {
    for (const [id, tally] of tallies) {
      const current = this.tally(kind, id);
      current.count += tally.count;
      current.lastUsedAt = Math.max(current.lastUsedAt, tally.lastUsedAt);
      for (const [start, counts] of tally.hours) {
        const into = current.hours.get(start);
        if (!into) current.hours.set(start, counts);
        else counts.forEach((n, i) => (into[i] += n));
      }
    }
  }

  /** Writes everything counted so far. Concurrent callers share one flush. */
  flush(): Promise<void> {
    this.flushing ??= this.writePending().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    for (const [kind, tallies] of batch) {
      if (tallies.size === 0) continue;
      // Sorted, so replicas flushing at once lock rows in one order (no deadlock between them).
      const ids = [...tallies.keys()].sort();
      const used = ids.filter((id) => tallies.get(id)!.count > 0);
      const hours: HourCounts[] = [];
      for (const id of ids) {
        for (const [start, [requests, ipNotAllowed, serviceNotEnabled, rateLimited]] of [...tallies.get(id)!.hours].sort(
          (a, b) => a[0] - b[0],
        )) {
          hours.push({ keyId: id, hour: new Date(start), requests, ipNotAllowed, serviceNotEnabled, rateLimited });
        }
      }
      try {
        await this.tx.run(async () => {
          if (used.length > 0) {
            await this.usage.addToCounters(
              TABLES[kind],
              used.map((id) => ({ id, count: tallies.get(id)!.count, lastUsedAt: new Date(tallies.get(id)!.lastUsedAt) })),
            );
          }
          // Hourly history is kept for keys (SPEC §17); an operator token has its counter and last use only.
          if (hasHistory(kind)) await this.usage.addToHours(kind, hours);
        });
      } catch (e) {
        this.merge(kind, tallies);
        this.logger.event('warn', 'usage flush failed; will retry', { kind, keys: ids.length, err: (e as Error).message });
      }
    }
  }
}
