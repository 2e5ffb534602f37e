import { randomHex, sha256 } from '../common/crypto/secrets';

export const MICA_KEY_PREFIX = 'trusset_mica_';
export const MICA_KEY_FORMAT = /^trusset_mica_[0-9a-f]{48}$/;
export const MANAGEMENT_TOKEN_FORMAT = /^[0-9a-f]{64}$/;

export interface NewMicaKey {
  plaintext: string;
  digest: Buffer;
  /** `trusset_mica_` and the first 9 hex: enough to recognise a key, far too little to guess it. */
  prefix: string;
  /** The last 4 hex, for telling keys apart in a list. */
  hint: string;
}

export function newMicaKey(): NewMicaKey {
  const plaintext = MICA_KEY_PREFIX + randomHex(48);
  return { plaintext, digest: sha256(plaintext), prefix: plaintext.slice(0, MICA_KEY_PREFIX.length + 9), hint: plaintext.slice(-4) };
}

export function newManagementToken(): { plaintext: string; digest: Buffer } {
  const plaintext = randomHex(64);
  return { plaintext, digest: sha256(plaintext) };
}
