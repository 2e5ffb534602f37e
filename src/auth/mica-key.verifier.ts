import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { sha256 } from '../common/crypto/secrets';
import { MICA_KEY_FORMAT, MICA_KEY_PREFIX } from '../domain/mica-credentials';
import { DigestLookupBatcher, digestId, keyLookupOptions } from '../key-cache/digest-lookup.batcher';
import { KeyCheckCache } from '../key-cache/key-check.cache';
import { developerTag, keyTag } from '../key-cache/key-invalidation.service';

interface MicaKeyRow {
  digest: Buffer;
  id: string;
  developer_id: string;
  /** False while an operator has the account suspended. */
  account_active: boolean;
}

type ValidMicaKey = { outcome: 'valid'; keyId: string; developerId: string };

export type MicaKeyCheck =
  | { outcome: 'no_key' }
  | { outcome: 'invalid' }
  | ValidMicaKey;

/**
 * Decides whether a presented MiCA key is valid: format first (no database work for a string that
 * cannot be a key), then the key-check cache (revocation and rotation evict it on every replica),
 * then an indexed lookup by the digest of the whole key (concurrent misses share one query). Rejects
 * (never passes) when the database cannot answer within AUTH_DECISION_TIMEOUT_MS.
 */
@Injectable()
export class MicaKeyVerifier {
  private readonly lookups: DigestLookupBatcher<MicaKeyRow>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cache: KeyCheckCache,
  ) {
    this.lookups = new DigestLookupBatcher((digests) => this.lookup(digests), keyLookupOptions(config, 'mica key check'));
  }

  async check(presented: unknown): Promise<MicaKeyCheck> {
    if (typeof presented !== 'string' || !presented.startsWith(MICA_KEY_PREFIX)) return { outcome: 'no_key' };
    if (!MICA_KEY_FORMAT.test(presented)) return { outcome: 'invalid' };
    const digest = sha256(presented);
    const cached = this.cache.get<MicaKeyCheck>('mica', digest);
    if (cached !== undefined) return cached ?? { outcome: 'invalid' };
    const epoch = this.cache.epoch;
    const row = await this.lookups.load(digest);
    if (!row) {
      this.cache.setUnknown('mica', digest, this.config.cache.negativeTtlMs, epoch);
      return { outcome: 'invalid' };
    }
    const tags = [keyTag(row.id), developerTag(row.developer_id)];
    if (!row.account_active) {
      // Cached under the account's tag (not as an unknown key), so a restore admits it again at once.
      const refused: MicaKeyCheck = { outcome: 'invalid' };
      this.cache.set('mica', digest, refused, this.config.cache.positiveTtlMs, tags, epoch);
      return refused;
    }
    const valid: ValidMicaKey = { outcome: 'valid', keyId: row.id, developerId: row.developer_id };
    this.cache.set('mica', digest, valid, this.config.cache.positiveTtlMs, tags, epoch);
    return valid;
  }

  private async lookup(digests: Buffer[]): Promise<Map<string, MicaKeyRow>> {
    const rows: MicaKeyRow[] = await this.dataSource.query(
      `SELECT k.key_digest AS digest, k.id, k.developer_id, d.status = 'ACTIVE' AS account_active
         FROM mica_keys k JOIN mica_developers d ON d.id = k.developer_id
        WHERE k.key_digest = ANY($1::bytea[]) AND k.revoked_at IS NULL`,
      [digests],
    );
    return new Map(rows.map((row) => [digestId(row.digest), row]));
  }
}
