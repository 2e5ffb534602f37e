import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import type { InstanceStatus } from '../domain/instance-status';
import type { ServiceName } from '../domain/platform-services';
import { parseInstanceKey } from '../domain/instance-key.material';
import { effectiveStatus, isUsable, KeyStatus, StoredKeyStatus } from '../domain/instance-key.state';
import { DigestLookupBatcher, digestId, keyLookupOptions } from '../key-cache/digest-lookup.batcher';
import { KeyCheckCache } from '../key-cache/key-check.cache';
import { instanceTag, keyTag } from '../key-cache/key-invalidation.service';
import type { Cidr } from '../common/net/cidr';
import { effectiveServices, parsedCidrs } from '../domain/key-restrictions';

export interface InstanceKeyIdentity {
  keyId: string;
  instanceId: string;
  instanceRef: string;
  /** What this key may reach: the instance's services within the key's own subset (SPEC §12). */
  services: ServiceName[];
  keyStatus: KeyStatus;
  /** Ranges the key may be used from; null: anywhere. */
  allowedCidrs: Cidr[] | null;
  /** The key's own per-minute limit; null: the deployment's. */
  rateLimitPerMinute: number | null;
}

export type InstanceKeyCheck = { outcome: 'missing' } | { outcome: 'failed' } | { outcome: 'valid'; identity: InstanceKeyIdentity };

/** Everything a key check needs to decide, read in one statement with the database clock. */
export interface KeyCheckRow {
  digest: Buffer;
  key_id: string;
  key_status: StoredKeyStatus;
  expires_at: Date | null;
  paused_until: Date | null;
  instance_id: string;
  instance_ref: string;
  instance_status: InstanceStatus;
  services: ServiceName[];
  key_services: ServiceName[] | null;
  allowed_cidrs: string[] | null;
  rate_limit_per_minute: number | null;
  now: Date;
}

/** A looked-up row kept with how far the database clock was ahead of ours when it was read. */
interface CachedRow {
  row: KeyCheckRow;
  clockOffsetMs: number;
  /** allowed_cidrs parsed once, not on every hit. */
  cidrs: Cidr[] | null;
}

/**
 * Decides whether a presented instance key is valid, apart from any service: format first (no
 * database work for a string that cannot be a key), then the key-check cache, then an indexed
 * lookup by the digest of the whole key, joined to its instance, with now(); concurrent misses share
 * one query (DigestLookupBatcher). Rejects (never passes) when the database cannot answer within
 * AUTH_DECISION_TIMEOUT_MS; callers turn that into AUTH_ERROR.
 *
 * A cached row is decided again on every hit against the database clock as estimated from the
 * lookup, so expiry, the end of an overlap and the end of a pause need no eviction; changes that
 * are not time-driven evict the row on every replica (KeyInvalidationService).
 */
@Injectable()
export class InstanceKeyVerifier {
  private readonly lookups: DigestLookupBatcher<KeyCheckRow>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cache: KeyCheckCache,
  ) {
    this.lookups = new DigestLookupBatcher((digests) => this.lookup(digests), keyLookupOptions(config, 'instance key check'));
  }

  async check(presented: unknown): Promise<InstanceKeyCheck> {
    if (presented === undefined || presented === '') return { outcome: 'missing' };
    const parsed = parseInstanceKey(presented);
    if (!parsed) return { outcome: 'failed' };
    const cached = this.cache.get<CachedRow>('instance', parsed.digest);
    if (cached === null) return { outcome: 'failed' };
    if (cached) return decide({ ...cached.row, now: new Date(Date.now() + cached.clockOffsetMs) }, parsed.instanceRef, cached.cidrs);

    const epoch = this.cache.epoch;
    const row = await this.lookups.load(parsed.digest);
    const cidrs = row ? parsedCidrs(row.allowed_cidrs) : null;
    if (row) {
      const entry: CachedRow = { row, clockOffsetMs: row.now.getTime() - Date.now(), cidrs };
      this.cache.set('instance', parsed.digest, entry, this.config.cache.positiveTtlMs, [keyTag(row.key_id), instanceTag(row.instance_id)], epoch);
    } else {
      this.cache.setUnknown('instance', parsed.digest, this.config.cache.negativeTtlMs, epoch);
    }
    return decide(row, parsed.instanceRef, cidrs);
  }

  private async lookup(digests: Buffer[]): Promise<Map<string, KeyCheckRow>> {
    const rows: KeyCheckRow[] = await this.dataSource.query(INSTANCE_KEY_LOOKUP, [digests]);
    return new Map(rows.map((row) => [digestId(row.digest), row]));
  }
}

/** The key check's one query: an index scan on instance_keys' unique digest, joined by primary key. */
export const INSTANCE_KEY_LOOKUP = `SELECT k.key_digest AS digest, k.id AS key_id, k.status AS key_status, k.expires_at, k.paused_until,
        k.services AS key_services, k.allowed_cidrs, k.rate_limit_per_minute,
        i.id AS instance_id, i.ref AS instance_ref, i.status AS instance_status, i.services, now() AS now
   FROM instance_keys k JOIN instances i ON i.id = k.instance_id
  WHERE k.key_digest = ANY($1::bytea[])`;

/** The decision on a looked-up row; pure, so a cached row can be re-decided against a later clock. */
export function decide(row: KeyCheckRow | undefined, presentedRef: string, cidrs: Cidr[] | null = row ? parsedCidrs(row.allowed_cidrs) : null): InstanceKeyCheck {
  if (!row || row.instance_ref !== presentedRef || row.instance_status !== 'ACTIVE') return { outcome: 'failed' };
  const keyStatus = effectiveStatus({ status: row.key_status, expiresAt: row.expires_at, pausedUntil: row.paused_until }, row.now);
  if (!isUsable(keyStatus)) return { outcome: 'failed' };
  return {
    outcome: 'valid',
    identity: {
      keyId: row.key_id,
      instanceId: row.instance_id,
      instanceRef: row.instance_ref,
      services: row.key_services === null ? row.services : effectiveServices(row.services, row.key_services),
      keyStatus,
      allowedCidrs: cidrs,
      rateLimitPerMinute: row.rate_limit_per_minute,
    },
  };
}
