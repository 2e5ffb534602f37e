import { Injectable } from '@nestjs/common';
import type { InstanceStatus } from '../domain/instance-status';
import type { ServiceName } from '../domain/platform-services';
import { parseInstanceKey } from '../domain/instance-key.material';
import { effectiveStatus, isUsable, KeyStatus, StoredKeyStatus } from '../domain/instance-key.state';
import { CachedDigestVerifier, CachedDigestVerifiers, DigestCredential, DigestRow } from '../key-cache/cached-digest.verifier';
import { instanceTag, keyTag } from '../key-cache/key-invalidation.service';
import type { KnownAbsentNames } from '../key-cache/known-absent-names';
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
export interface KeyCheckRow extends DigestRow {
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
}

const MISSING: InstanceKeyCheck = Object.freeze({ outcome: 'missing' });
const FAILED: InstanceKeyCheck = Object.freeze({ outcome: 'failed' });
// The verifier's answer for a digest no key has: a failure like any other to every caller, told apart only here.
const UNKNOWN: InstanceKeyCheck = Object.freeze({ outcome: 'failed' });

/**
 * Decides whether a presented instance key is valid, apart from any service: format first (no
 * database work for a string that cannot be a key), then the cached digest check (CachedDigestVerifier:
 * the key-check cache, else an indexed lookup by the digest of the whole key, joined to its
 * instance, with now()). A cached row is decided again on every hit against the database clock, so
 * expiry, the end of an overlap and the end of a pause need no eviction; changes that are not
 * time-driven evict the row on every replica (KeyInvalidationService). Rejects (never passes) when
 * the database cannot answer within AUTH_DECISION_TIMEOUT_MS; callers turn that into AUTH_ERROR.
 */
@Injectable()
export class InstanceKeyVerifier {
  private readonly keys: CachedDigestVerifier<KeyCheckRow, KeptKey, string, InstanceKeyCheck>;
  /** Instance refs known not to exist: a key under one fails without a lookup (KnownAbsentNames says why that is sound). */
  private readonly refs: KnownAbsentNames;

  constructor(verifiers: CachedDigestVerifiers) {
    this.keys = verifiers.create(INSTANCE_KEYS, INSTANCE_KEY_LOOKUP);
    this.refs = verifiers.absentNames(INSTANCE_REF_LOOKUP);
  }

  async check(presented: unknown): Promise<InstanceKeyCheck> {
    if (presented === undefined || presented === '') return MISSING;
    const parsed = parseInstanceKey(presented);
    if (!parsed) return FAILED;
    if (this.refs.isAbsent(parsed.instanceRef)) return FAILED;
    const check = await this.keys.verify(parsed.digest, parsed.instanceRef);
    if (check !== UNKNOWN) return check;
    this.refs.report(parsed.instanceRef);
    return FAILED;
  }
}

/** The key check's one query: an index scan on instance_keys' unique digest, joined by primary key. */
export const INSTANCE_KEY_LOOKUP = `SELECT k.key_digest AS digest, k.id AS key_id, k.status AS key_status, k.expires_at, k.paused_until,
        k.services AS key_services, k.allowed_cidrs, k.rate_limit_per_minute,
        i.id AS instance_id, i.ref AS instance_ref, i.status AS instance_status, i.services, now() AS now
   FROM instance_keys k JOIN instances i ON i.id = k.instance_id
  WHERE k.key_digest = ANY($1::bytea[])`;

/** Which of the refs of refused keys exist: an index scan on instances' unique ref, only for keys found unknown. */
export const INSTANCE_REF_LOOKUP = `SELECT ref AS name FROM instances WHERE ref = ANY($1::text[])`;

/** What a cached instance-key row keeps besides itself: its ranges parsed once, and its last answer, reused while the key's state is the same. */
interface KeptKey {
  cidrs: Cidr[] | null;
  state: { status: StoredKeyStatus; expiresAt: Date | null; pausedUntil: Date | null };
  valid: Extract<InstanceKeyCheck, { outcome: 'valid' }> | undefined;
}

/** Instance keys in the cache: evicted by a change to the key or to its instance; decided against the presented ref. */
const INSTANCE_KEYS: DigestCredential<KeyCheckRow, KeptKey, string, InstanceKeyCheck> = {
  namespace: 'instance',
  what: 'instance key check',
  tags: (row) => [keyTag(row.key_id), instanceTag(row.instance_id)],
  keep: (row) => ({
    cidrs: parsedCidrs(row.allowed_cidrs),
    state: { status: row.key_status, expiresAt: row.expires_at, pausedUntil: row.paused_until },
    valid: undefined,
  }),
  // The same decision as `decide`, without building the answer again on every hit of the platform's hottest check.
  decide: (row, kept, now, presentedRef) => {
    if (row.instance_ref !== presentedRef || row.instance_status !== 'ACTIVE') return FAILED;
    const keyStatus = effectiveStatus(kept.state, now);
    if (!isUsable(keyStatus)) return FAILED;
    if (kept.valid?.identity.keyStatus !== keyStatus) kept.valid = decide(row, presentedRef, kept.cidrs, now) as KeptKey['valid'];
    return kept.valid!;
  },
  unknown: UNKNOWN,
};

/** The decision on a looked-up row at database time `now` (the row's own by default); pure, so a cached row can be decided again against a later clock. */
export function decide(
  row: KeyCheckRow | undefined,
  presentedRef: string,
  cidrs: Cidr[] | null = row ? parsedCidrs(row.allowed_cidrs) : null,
  now?: Date,
): InstanceKeyCheck {
  if (!row || row.instance_ref !== presentedRef || row.instance_status !== 'ACTIVE') return FAILED;
  const keyStatus = effectiveStatus({ status: row.key_status, expiresAt: row.expires_at, pausedUntil: row.paused_until }, now ?? row.now);
  if (!isUsable(keyStatus)) return FAILED;
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
