import { Injectable } from '@nestjs/common';
import { CachedDigestVerifier, CachedDigestVerifiers, DigestCredential, DigestRow } from '../key-cache/cached-digest.verifier';
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
  { outcome: 'not_operator_token' } | { outcome: 'invalid'; tokenId?: string } | { outcome: 'valid'; identity: OperatorIdentity };

export interface OperatorTokenRow extends DigestRow {
  id: string;
  name: string;
  scopes: OperatorScope[];
  instance_refs: string[] | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

export const OPERATOR_TOKEN_LOOKUP = `SELECT token_digest AS digest, id, name, scopes, instance_refs, expires_at, revoked_at, now() AS now
   FROM operator_tokens WHERE token_digest = ANY($1::bytea[])`;

const NOT_OPERATOR_TOKEN: OperatorTokenCheck = Object.freeze({ outcome: 'not_operator_token' });
const INVALID: OperatorTokenCheck = Object.freeze({ outcome: 'invalid' });

/** Operator tokens in the cache: evicted by their revocation. */
const OPERATOR_TOKENS: DigestCredential<OperatorTokenRow, undefined, undefined, OperatorTokenCheck> = {
  namespace: 'operator',
  what: 'operator token check',
  tags: (row) => [operatorTokenTag(row.id)],
  decide: (row, _kept, now) => decideOperatorToken(row, now),
  unknown: INVALID,
};

/**
 * Decides whether a presented bearer string is a usable operator token, like an instance key: the
 * format first (no database work for a string that cannot be one), then the cached digest check
 * (revocation evicts it on every replica after commit). A cached row is decided again on every hit
 * against the database clock, so a token whose expiry passes while cached is refused without
 * eviction. Rejects (never passes) when the database cannot answer within AUTH_DECISION_TIMEOUT_MS.
 */
@Injectable()
export class OperatorTokenVerifier {
  private readonly tokens: CachedDigestVerifier<OperatorTokenRow, undefined, undefined, OperatorTokenCheck>;

  constructor(verifiers: CachedDigestVerifiers) {
    this.tokens = verifiers.create(OPERATOR_TOKENS, OPERATOR_TOKEN_LOOKUP);
  }

  async check(presented: string): Promise<OperatorTokenCheck> {
    const digest = parseOperatorToken(presented);
    if (!digest) return NOT_OPERATOR_TOKEN;
    return this.tokens.verify(digest, undefined);
  }
}

/** The decision on a looked-up row at database time `now` (the row's own by default); pure, so a cached row can be decided again against a later clock. */
export function decideOperatorToken(row: OperatorTokenRow | undefined, now?: Date): OperatorTokenCheck {
  if (!row) return INVALID;
  if (row.revoked_at || (row.expires_at && row.expires_at.getTime() <= (now ?? row.now).getTime()))
    return { outcome: 'invalid', tokenId: row.id };
  return {
    outcome: 'valid',
    identity: { tokenId: row.id, name: row.name, scopes: row.scopes, instanceRefs: row.instance_refs, expiresAt: row.expires_at },
  };
}
