import { Injectable } from '@nestjs/common';
import { execute, firstRow, rows } from '../database/sql';
import { Transactions } from '../database/transactions';
import type { Granularity } from '../domain/usage-granularity';

/** Which table a usage counter lives in; each has `id uuid`, `last_used_at timestamptz`, `request_count bigint`. */
export type CounterTable = 'instance_keys' | 'mica_keys' | 'operator_tokens';
/** The kinds of key with an hourly history (SPEC §17), as key_usage_hourly.key_kind spells them. */
export type HistoryKind = 'instance_key' | 'mica_key';

/** One key's counts in one hour, as a flush adds them. */
export interface HourCounts {
  keyId: string;
  hour: Date;
  requests: number;
  ipNotAllowed: number;
  serviceNotEnabled: number;
  rateLimited: number;
}

/** One bucket of a range read: sums over the hour or UTC day that starts at `start`. */
export interface BucketRow {
  keyId: string;
  start: Date;
  requests: string;
  ip: string;
  service: string;
  rate: string;
}

export interface MicaKeyCounter {
  id: string;
  name: string;
  keyPrefix: string;
  revokedAt: Date | null;
  requestCount: string;
}

// The counters' table is one of three fixed names, so each gets its statement written out in full.
const addToCounters = (table: CounterTable) => `UPDATE ${table} AS t
   SET request_count = t.request_count + u.n,
       last_used_at = GREATEST(COALESCE(t.last_used_at, u.at), u.at)
  FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[]) AS u(id, n, at)
 WHERE t.id = u.id`;

// Only keys that still exist get history (a key deleted meanwhile has nothing to report it).
const addToHours = (
  table: CounterTable,
) => `INSERT INTO key_usage_hourly AS h (key_kind, key_id, hour, requests, refused_ip_not_allowed, refused_service_not_enabled, refused_rate_limited)
SELECT $1, u.id, u.hour, u.requests, u.ip, u.service, u.rate
  FROM unnest($2::uuid[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) AS u(id, hour, requests, ip, service, rate)
 WHERE EXISTS (SELECT 1 FROM ${table} t WHERE t.id = u.id)
ON CONFLICT (key_kind, key_id, hour) DO UPDATE SET
  requests = h.requests + EXCLUDED.requests,
  refused_ip_not_allowed = h.refused_ip_not_allowed + EXCLUDED.refused_ip_not_allowed,
  refused_service_not_enabled = h.refused_service_not_enabled + EXCLUDED.refused_service_not_enabled,
  refused_rate_limited = h.refused_rate_limited + EXCLUDED.refused_rate_limited`;

export const USAGE_SQL = {
  addToInstanceKeys: addToCounters('instance_keys'),
  addToMicaKeys: addToCounters('mica_keys'),
  addToOperatorTokens: addToCounters('operator_tokens'),
  addToInstanceKeyHours: addToHours('instance_keys'),
  addToMicaKeyHours: addToHours('mica_keys'),

  instanceKeyByRef: `SELECT k.id, k.request_count AS "requestCount" FROM instance_keys k JOIN instances i ON i.id = k.instance_id WHERE k.id = $1 AND i.ref = $2`,
  instanceKeyById: `SELECT k.id, k.request_count AS "requestCount" FROM instance_keys k JOIN instances i ON i.id = k.instance_id WHERE k.id = $1 AND i.id = $2`,
  instanceExists: `SELECT 1 FROM instances WHERE ref = $1`,
  micaKeys: `SELECT id, name, key_prefix AS "keyPrefix", revoked_at AS "revokedAt", request_count AS "requestCount"
  FROM mica_keys WHERE developer_id = $1 ORDER BY created_at DESC, id DESC`,

  buckets: `SELECT key_id AS "keyId", date_trunc($5, hour, 'UTC') AS start, sum(requests)::bigint AS requests, sum(refused_ip_not_allowed)::bigint AS ip,
       sum(refused_service_not_enabled)::bigint AS service, sum(refused_rate_limited)::bigint AS rate
  FROM key_usage_hourly
 WHERE key_kind = $1 AND key_id = ANY($2::uuid[])
   AND hour >= ($3::date)::timestamp AT TIME ZONE 'UTC' AND hour < ($4::date + 1)::timestamp AT TIME ZONE 'UTC'
 GROUP BY key_id, 2 ORDER BY key_id, 2`,

  prune: `DELETE FROM key_usage_hourly WHERE hour < now() - $1::int * interval '1 day'`,
} as const;

const ADD_TO_COUNTERS: Record<CounterTable, string> = {
  instance_keys: USAGE_SQL.addToInstanceKeys,
  mica_keys: USAGE_SQL.addToMicaKeys,
  operator_tokens: USAGE_SQL.addToOperatorTokens,
};
const ADD_TO_HOURS: Record<HistoryKind, string> = { instance_key: USAGE_SQL.addToInstanceKeyHours, mica_key: USAGE_SQL.addToMicaKeyHours };

/** The usage counters of the key tables and the hourly history in key_usage_hourly. */
@Injectable()
export class UsageRepository {
  constructor(private readonly tx: Transactions) {}

  /** Adds `counts` to request_count and moves last_used_at forward only. */
  async addToCounters(table: CounterTable, counts: Array<{ id: string; count: number; lastUsedAt: Date }>): Promise<void> {
    await execute(this.tx.manager, ADD_TO_COUNTERS[table], [
      counts.map((c) => c.id),
      counts.map((c) => c.count),
      counts.map((c) => c.lastUsedAt.toISOString()),
    ]);
  }

  /** Adds to the hourly buckets of keys that still exist. */
  async addToHours(kind: HistoryKind, hours: HourCounts[]): Promise<void> {
    await execute(this.tx.manager, ADD_TO_HOURS[kind], [
      kind,
      hours.map((h) => h.keyId),
      hours.map((h) => h.hour.toISOString()),
      hours.map((h) => h.requests),
      hours.map((h) => h.ipNotAllowed),
      hours.map((h) => h.serviceNotEnabled),
      hours.map((h) => h.rateLimited),
    ]);
  }

  /** The instance's key (the instance named by ref or id) and its counter. */
  instanceKey(
    scope: { instanceRef: string } | { instanceId: string },
    keyId: string,
  ): Promise<{ id: string; requestCount: string } | undefined> {
    const [sql, value] =
      'instanceRef' in scope ? [USAGE_SQL.instanceKeyByRef, scope.instanceRef] : [USAGE_SQL.instanceKeyById, scope.instanceId];
    return firstRow(this.tx.manager, sql, [keyId, value]);
  }

  async instanceExists(ref: string): Promise<boolean> {
    return (await rows(this.tx.manager, USAGE_SQL.instanceExists, [ref])).length > 0;
  }

  /** The developer's MiCA keys, newest first, with their counters. */
  micaKeys(developerId: string): Promise<MicaKeyCounter[]> {
    return rows<MicaKeyCounter>(this.tx.manager, USAGE_SQL.micaKeys, [developerId]);
  }

  /** Sums per key and hour or UTC day over the days `from` to `to` (inclusive), ordered by key and start. */
  buckets(kind: HistoryKind, keyIds: string[], from: string, to: string, granularity: Granularity): Promise<BucketRow[]> {
    return rows<BucketRow>(this.tx.manager, USAGE_SQL.buckets, [kind, keyIds, from, to, granularity]);
  }

  /** Deletes buckets older than `days`; answers how many. */
  async prune(days: number): Promise<number> {
    return (await execute(this.tx.manager, USAGE_SQL.prune, [days])).affected;
  }
}
