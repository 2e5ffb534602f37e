import { Injectable } from '@nestjs/common';
import { sha256 } from '../common/crypto/secrets';
import { MICA_KEY_FORMAT, MICA_KEY_PREFIX } from '../domain/mica-credentials';
import { CachedDigestVerifier, CachedDigestVerifiers, DigestCredential, DigestRow } from '../key-cache/cached-digest.verifier';
import { developerTag, keyTag } from '../key-cache/key-invalidation.service';

interface MicaKeyRow extends DigestRow {
  id: string;
  developer_id: string;
  /** False while an operator has the account suspended. */
  account_active: boolean;
}

export type MicaKeyCheck = { outcome: 'no_key' } | { outcome: 'invalid' } | { outcome: 'valid'; keyId: string; developerId: string };

const NO_KEY: MicaKeyCheck = Object.freeze({ outcome: 'no_key' });
const INVALID: MicaKeyCheck = Object.freeze({ outcome: 'invalid' });

/** The decision on a looked-up row; it does not depend on time, so it is made once when the row is read. */
function decideMicaKey(row: MicaKeyRow): MicaKeyCheck {
  return row.account_active ? { outcome: 'valid', keyId: row.id, developerId: row.developer_id } : INVALID;
}

/** Not revoked, with whether the account is active: a revoked key is unknown to the lookup. */
const MICA_KEY_LOOKUP = `SELECT k.key_digest AS digest, k.id, k.developer_id, d.status = 'ACTIVE' AS account_active, now() AS now
   FROM mica_keys k JOIN mica_developers d ON d.id = k.developer_id
  WHERE k.key_digest = ANY($1::bytea[]) AND k.revoked_at IS NULL`;

/** MiCA keys in the cache: evicted by a change to the key or to its account (suspension, restore, erasure). */
const MICA_KEYS: DigestCredential<MicaKeyRow, MicaKeyCheck, undefined, MicaKeyCheck> = {
  namespace: 'mica',
  what: 'mica key check',
  tags: (row) => [keyTag(row.id), developerTag(row.developer_id)],
  keep: decideMicaKey,
  decide: (_row, decided) => decided,
  unknown: INVALID,
};

/**
 * Decides whether a presented MiCA key is valid: format first (no database work for a string that
 * cannot be a key), then the cached digest check (revocation and rotation evict it on every
 * replica). A key of a suspended account is cached under the account's tag (not as an unknown key),
 * so a restore admits it again at once. Rejects (never passes) when the database cannot answer
 * within AUTH_DECISION_TIMEOUT_MS.
 */
@Injectable()
export class MicaKeyVerifier {
  private readonly keys: CachedDigestVerifier<MicaKeyRow, MicaKeyCheck, undefined, MicaKeyCheck>;

  constructor(verifiers: CachedDigestVerifiers) {
    this.keys = verifiers.create(MICA_KEYS, MICA_KEY_LOOKUP);
  }

  async check(presented: unknown): Promise<MicaKeyCheck> {
    if (typeof presented !== 'string' || !presented.startsWith(MICA_KEY_PREFIX)) return NO_KEY;
    if (!MICA_KEY_FORMAT.test(presented)) return INVALID;
    return this.keys.verify(sha256(presented), undefined);
  }
}
