import { randomBytes } from 'node:crypto';
import { sha256 } from '../common/crypto/secrets';

export const OPERATOR_TOKEN_PREFIX = 'trusset_admin_';
/** `trusset_admin_` + 64 lowercase hex: 78 characters, nothing else. */
export const OPERATOR_TOKEN_FORMAT = /^trusset_admin_[0-9a-f]{64}$/;
const LENGTH = OPERATOR_TOKEN_PREFIX.length + 64;
const PREFIX_HEX = 4;
const HINT_HEX = 4;

export interface IssuedOperatorToken {
  plaintext: string;
  digest: Buffer;
  /** `trusset_admin_` and the first hex characters: enough to recognise a token, useless to use one. */
  prefix: string;
  hint: string;
}

export function generateOperatorToken(): IssuedOperatorToken {
  const secret = randomBytes(32).toString('hex');
  const plaintext = OPERATOR_TOKEN_PREFIX + secret;
  return {
    plaintext,
    digest: sha256(plaintext),
    prefix: OPERATOR_TOKEN_PREFIX + secret.slice(0, PREFIX_HEX),
    hint: secret.slice(-HINT_HEX),
  };
}

/** The digest to look a presented token up by, or null when it cannot be an operator token (no database work). */
export function parseOperatorToken(value: unknown): Buffer | null {
  if (typeof value !== 'string' || value.length !== LENGTH || !OPERATOR_TOKEN_FORMAT.test(value)) return null;
  return sha256(value);
}
