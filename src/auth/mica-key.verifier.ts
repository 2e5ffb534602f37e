import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { sha256 } from '../common/crypto/secrets';
import { withDeadline } from '../database/database-errors';
import { MICA_KEY_FORMAT, MICA_KEY_PREFIX } from '../mica/accounts/mica-credentials';
import { KeyCheckCache } from '../key-cache/key-check.cache';
import { developerTag, keyTag } from '../key-cache/key-invalidation.service';

type ValidMicaKey = { outcome: 'valid'; keyId: string; developerId: string };

export type MicaKeyCheck =
  | { outcome: 'no_key' }
  | { outcome: 'invalid' }
  | ValidMicaKey;

/**
 * Decides whether a presented MiCA key is valid: format first (no database work for a string that
 * cannot be a key), then the key-check cache (revocation and rotation evict it on every replica),
 * then one indexed lookup by the digest of the whole key. Rejects (never passes) when the database
 * cannot answer within AUTH_DECISION_TIMEOUT_MS.
 */
@Injectable()
export class MicaKeyVerifier {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cache: KeyCheckCache,
  ) {}

  async check(presented: unknown): Promise<MicaKeyCheck> {
    if (typeof presented !== 'string' || !presented.startsWith(MICA_KEY_PREFIX)) return { outcome: 'no_key' };
    if (!MICA_KEY_FORMAT.test(presented)) return { outcome: 'invalid' };
    const digest = sha256(presented);
    const cached = this.cache.get<ValidMicaKey | null>('mica', digest);
    if (cached !== undefined) return cached ?? { outcome: 'invalid' };
    const epoch = this.cache.epoch;
    const rows: Array<{ id: string; developer_id: string }> = await withDeadline(
      this.dataSource.query(`SELECT id, developer_id FROM mica_keys WHERE key_digest = $1 AND revoked_at IS NULL`, [digest]),
      this.config.auth.decisionTimeoutMs,
      'mica key check',
    );
    if (rows.length !== 1) {
      this.cache.set('mica', digest, null, this.config.cache.negativeTtlMs, [], epoch);
      return { outcome: 'invalid' };
    }
    const valid: ValidMicaKey = { outcome: 'valid', keyId: rows[0].id, developerId: rows[0].developer_id };
    this.cache.set('mica', digest, valid, this.config.cache.positiveTtlMs, [keyTag(valid.keyId), developerTag(valid.developerId)], epoch);
    return valid;
  }
}
