import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The cryptography of stored idempotent answers (SPEC §13), pure and unit-tested.
 *
 * - A record is named by HMAC(lookupKey, principal ‖ Idempotency-Key): a dump shows neither the
 *   idempotency key nor whose it is, and the name cannot be recomputed without SECRETS_KEY.
 * - The answer (which may hold a new key's plaintext) is sealed with AES-256-GCM under a key
 *   derived by HKDF-SHA256 from SECRETS_KEY with the principal and the Idempotency-Key as `info`:
 *   opening it takes both the server secret and the client's idempotency key, so neither a
 *   database dump nor the server secret alone reveals it. The record's name is the GCM additional
 *   data, so a sealed answer moved to another record does not open.
 */
const VERSION = 'trusset-idempotency-v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class IdempotencyCrypto {
  private readonly lookupKey: Buffer;

  constructor(private readonly secretsKey: string) {
    this.lookupKey = Buffer.from(hkdfSync('sha256', secretsKey, Buffer.alloc(0), `${VERSION} lookup`, 32));
  }

  /** The record's name for one principal's Idempotency-Key. */
  recordId(scope: string, idempotencyKey: string): Buffer {
    return createHmac('sha256', this.lookupKey).update(`id\0${scope}\0${idempotencyKey}`).digest();
  }

  /** What makes two requests "the same": method, path and body (key order ignored). */
  fingerprint(method: string, path: string, body: unknown): Buffer {
    return createHmac('sha256', this.lookupKey)
      .update(`fp\0${method}\0${path}\0${canonicalJson(body ?? {})}`)
      .digest();
  }

  seal(scope: string, idempotencyKey: string, recordId: Buffer, plaintext: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.answerKey(scope, idempotencyKey), iv);
    cipher.setAAD(recordId);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  /** The plaintext, or null when it does not open (another secret, another key, tampering). */
  open(scope: string, idempotencyKey: string, recordId: Buffer, sealed: Buffer): string | null {
    if (sealed.length < IV_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.answerKey(scope, idempotencyKey), sealed.subarray(0, IV_BYTES));
      decipher.setAAD(recordId);
      decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  private answerKey(scope: string, idempotencyKey: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.secretsKey, Buffer.from(VERSION), `${VERSION} answer\0${scope}\0${idempotencyKey}`, 32));
  }
}

/** JSON with object keys sorted at every level, so `{a, b}` and `{b, a}` are the same body. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** SPEC §13: 1–255 visible ASCII characters. */
export const IDEMPOTENCY_KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;
