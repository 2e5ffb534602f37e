import { randomBytes } from 'node:crypto';
import { sha256 } from '../common/crypto/secrets';

/** `trusset_{instanceRef}_{64 lowercase hex}`: 81 characters, nothing else. */
export const INSTANCE_KEY_FORMAT = /^trusset_([A-Za-z0-9]{8})_[0-9a-f]{64}$/;

const PREFIX_HEX = 4;
const HINT_HEX = 4;

export interface IssuedKeyMaterial {
  plaintext: string;
  digest: Buffer;
  /** `trusset_{ref}_` and the first hex characters: enough to recognise a key, useless to use one. */
  prefix: string;
  /** The last hex characters. */
  hint: string;
}

export function generateInstanceKey(instanceRef: string): IssuedKeyMaterial {
  const secret = randomBytes(32).toString('hex');
  const plaintext = `trusset_${instanceRef}_${secret}`;
  return {
    plaintext,
    digest: sha256(plaintext),
    prefix: `trusset_${instanceRef}_${secret.slice(0, PREFIX_HEX)}`,
    hint: secret.slice(-HINT_HEX),
  };
}

/**
 * The digest to look a presented key up by, or null when the value cannot be an instance key
 * (wrong length, upper-case hex, a MiCA key, two keys joined…): refused before any database work.
 */
export function parseInstanceKey(value: unknown): { instanceRef: string; digest: Buffer } | null {
  if (typeof value !== 'string' || value.length !== 81) return null;
  const match = INSTANCE_KEY_FORMAT.exec(value);
  return match ? { instanceRef: match[1], digest: sha256(value) } : null;
}
