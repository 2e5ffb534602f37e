import { BeforeApplicationShutdown, Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { JsonLogger } from '../common/logging/json-logger';

/** Which table a usage counter lives in; each has `id uuid`, `last_used_at timestamptz`, `request_count bigint`. */
const TABLES = { instance_key: 'instance_keys', mica_key: 'mica_keys', operator_token: 'operator_tokens' } as const;

export type UsageKind = keyof typeof TABLES;

interface Tally {
  count: number;
  lastUsedAt: number;
}

/**
 * Key usage (last use, request count) counted in memory and written in one statement per table every
 * USAGE_FLUSH_INTERVAL_MS and at shutdown, so a key check never waits on a write. Timestamps only
 * move forward; a failed flush keeps its tallies for the next one.
 */
@Injectable()
export class UsageTracker implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private pending = new Map<UsageKind, Map<string, Tally>>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
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

  record(kind: UsageKind, id: string, at = Date.now()): void {
    let tallies = this.pending.get(kind);
    if (!tallies) this.pending.set(kind, (tallies = new Map()));
    const tally = tallies.get(id);
    if (tally) {
      tally.count++;
      if (at > tally.lastUsedAt) tally.lastUsedAt = at;
    } else {
      tallies.set(id, { count: 1, lastUsedAt: at });
    }
  }

  private merge(kind: UsageKind, tallies: Map<string, Tally>): void {
    let current = this.pending.get(kind);
    if (!current) this.pending.set(kind, (current = new Map()));
    for (const [id, tally] of tallies) {
      const existing = current.get(id);
      if (!existing) current.set(id, tally);
      else current.set(id, { count: existing.count + tally.count, lastUsedAt: Math.max(existing.lastUsedAt, tally.lastUsedAt) });
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
      const ids = [...tallies.keys()];
      try {
        await this.dataSource.query(
          `UPDATE ${TABLES[kind]} AS t
              SET request_count = t.request_count + u.n,
                  last_used_at = GREATEST(COALESCE(t.last_used_at, u.at), u.at)
             FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[]) AS u(id, n, at)
            WHERE t.id = u.id`,
          [ids, ids.map((id) => tallies.get(id)!.count), ids.map((id) => new Date(tallies.get(id)!.lastUsedAt).toISOString())],
        );
      } catch (e) {
        this.merge(kind, tallies);
        this.logger.event('warn', 'usage flush failed; will retry', { kind, keys: ids.length, err: (e as Error).message });
      }
    }
  }
}
