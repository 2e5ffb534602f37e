import { createHmac, randomBytes } from 'node:crypto';

/** Standard Webhooks secrets: `whsec_` + base64 of the raw HMAC key. */
export const SECRET_PREFIX = 'whsec_';
export const SIGNING_KEY_BYTES = 32;

export function newSigningKey(): Buffer {
  return randomBytes(SIGNING_KEY_BYTES);
}

export function secretOf(key: Buffer): string {
  return SECRET_PREFIX + key.toString('base64');
}

/** `webhook-id` of an event: the same for every endpoint and every retry of it. */
export function messageIdOf(eventId: string): string {
  return `msg_${eventId.replace(/-/g, '')}`;
}

/**
 * The `webhook-signature` header value: one `v1,<base64 HMAC-SHA256(key, id.timestamp.body)>` per
 * key, space-separated (during a secret rotation both the new and the old key sign).
 */
export function signatureHeader(keys: Buffer[], messageId: string, timestampSeconds: number, body: string): string {
  const content = `${messageId}.${timestampSeconds}.${body}`;
  return keys.map((key) => `v1,${createHmac('sha256', key).update(content).digest('base64')}`).join(' ');
}
