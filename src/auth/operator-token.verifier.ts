import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { DigestLookupBatcher, digestId, keyLookupOptions } from '../key-cache/digest-lookup.batcher';
import { KeyCheckCache } from '../key-cache/key-check.cache';
import { operatorTokenTag } from '../key-cache/key-invalidation.service';
import { parseOperatorToken } from '../domain/operator-token.material';
import type { OperatorScope } from '../domain/operator-token.scopes';

export interface OperatorIdentity {
  tokenId: string;
  name: string;
  scopes: OperatorScope[];
  /** null: every instance. */
  instanceRefs: string[] | null;
  expiresAt: Date | null;
}

/** Not a token at all (another string); a token that does not pass (unknown, revoked, expired; `tokenId` when known); or one that passes. */
export type OperatorTokenCheck =
  | { outcome: 'not_operator_token' }
  | { outcome: 'invalid'; tokenId?: string }
  | { outcome: 'valid'; identity: OperatorIdentity };

export interface OperatorTokenRow {
  digest: Buffer;
  id: string;
  name: string;
  scopes: OperatorScope[];
  instance_refs: string[] | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  now: Date;
}

interface CachedRow {
  row: OperatorTokenRow;
  clockOffsetMs: number;
}

export const OPERATOR_TOKEN_LOOKUP = `SELECT token_digest AS digest, id, name, scopes, instance_refs, expires_at, revoked_at, now() AS now
   FROM operator_tokens WHERE token_digest = ANY($1::bytea[])`;

/**
 * Decides whether a presented bearer string is a usable operator token, like an instance key: the
 * format first (no database work for a string that cannot be one), then the key-check cache by
 * digest (revocation evicts it on every replica after commit), then one indexed lookup shared by
 * concurrent misses. A cached row is decided again on every hit against the database clock as
 * estimated at lookup, so a token whose expiry passes while cached is refused without eviction.
 * Rejects (never passes) when the database cannot answer within AUTH_DECISION_TIMEOUT_MS.
 */
@Injectable()
export class OperatorTokenVerifier {
  private readonly lookups: DigestLookupBatcher<OperatorTokenRow>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cache: KeyCheckCache,
  ) {
    this.lookups = new DigestLookupBatcher((digests) => this.lookup(digests), keyLookupOptions(config, 'operator token check'));
  }

  async check(presented: string): Promise<OperatorTokenCheck> {
    const digest = parseOperatorToken(presented);
    if (!digest) return { outcome: 'not_operator_token' };
    const cached = this.cache.get<CachedRow>('operator', digest);
    if (cached === null) return { outcome: 'invalid' };
    if (cached) return decideOperatorToken({ ...cached.row, now: new Date(Date.now() + cached.clockOffsetMs) });

    const epoch = this.cache.epoch;
    const row = await this.lookups.load(digest);
    if (row) {
      this.cache.set('operator', digest, { row, clockOffsetMs: row.now.getTime() - Date.now() } satisfies CachedRow, this.config.cache.positiveTtlMs, [operatorTokenTag(row.id)], epoch);
    } else {
      this.cache.setUnknown('operator', digest, this.config.cache.negativeTtlMs, epoch);
    }
    return decideOperatorToken(row);
  }

  private async lookup(digests: Buffer[]): Promise<Map<string, OperatorTokenRow>> {
    const rows: OperatorTokenRow[] = await this.dataSource.query(OPERATOR_TOKEN_LOOKUP, [digests]);
    return new Map(rows.map((row) => [digestId(row.digest), row]));
  }
}

/** The decision on a looked-up row; pure, so a cached row can be decided again against a later clock. */
export function decideOperatorToken(row: OperatorTokenRow | undefined): OperatorTokenCheck {
  if (!row) return { outcome: 'invalid' };
  if (row.revoked_at || (row.expires_at && row.expires_at.getTime() <= row.now.getTime())) return { outcome: 'invalid', tokenId: row.id };
  return {
    outcome: 'valid',
    identity: { tokenId: row.id, name: row.name, scopes: row.scopes, instanceRefs: row.instance_refs, expiresAt: row.expires_at },
  };
}
