import { createPublicKey, KeyObject, verify } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { JsonLogger } from '../common/logging/json-logger';

/** GitHub rotates its signing keys rarely; past this the list is read again before it is trusted. */
export const GITHUB_KEYS_TTL_MS = 60 * 60 * 1000;
/** The keys are fetched inside a report's request, which must answer in well under 2 s. */
export const GITHUB_KEYS_FETCH_TIMEOUT_MS = 1000;
const MAX_KEYS_RESPONSE_BYTES = 256 * 1024;
/**
 * Refetches for an identifier the list does not hold: a burst, then one a minute. The route is
 * public, so without a budget anyone could make this service hammer GitHub's endpoint (60 requests
 * an hour per address without a token) with made-up identifiers and lock real reports out.
 */
const REFETCH_BURST = 5;
const REFETCH_REFILL_MS = 60 * 1000;

const IDENTIFIER_FORMAT = /^[\x21-\x7e]{1,256}$/;

/**
 * GitHub's secret-scanning public keys (`{"public_keys": [{"key_identifier", "key": "<PEM>", "is_current"}]}`
 * at SECRET_SCANNING_GITHUB_KEYS_URL), cached for an hour. An unknown identifier refetches the list
 * once (within the budget above); when the list cannot be read, nothing is trusted.
 */
@Injectable()
export class GithubKeyStore {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;
  private inFlight?: Promise<boolean>;
  private refetches = REFETCH_BURST;
  private refilledAt = Date.now();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: JsonLogger,
  ) {}

  /** True when `signature` (base64 DER ECDSA P-256 SHA-256) over `body` is GitHub's, by the key named `identifier`. */
  async verify(body: Buffer, identifier: string | undefined, signature: string | undefined): Promise<boolean> {
    if (!identifier || !signature || !IDENTIFIER_FORMAT.test(identifier) || signature.length > 1024) return false;
    const key = await this.keyFor(identifier);
    if (!key) return false;
    try {
      return verify('sha256', body, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
    } catch {
      return false;
    }
  }

  private async keyFor(identifier: string): Promise<KeyObject | undefined> {
    const fresh = Date.now() - this.fetchedAt < GITHUB_KEYS_TTL_MS;
    if (fresh && this.keys.has(identifier)) return this.keys.get(identifier);
    if (!fresh || this.takeRefetch()) await this.refresh();
    return Date.now() - this.fetchedAt < GITHUB_KEYS_TTL_MS ? this.keys.get(identifier) : undefined;
  }

  private takeRefetch(): boolean {
    const now = Date.now();
    const refill = Math.floor((now - this.refilledAt) / REFETCH_REFILL_MS);
    if (refill > 0) {
      this.refetches = Math.min(REFETCH_BURST, this.refetches + refill);
      this.refilledAt += refill * REFETCH_REFILL_MS;
    }
    if (this.refetches === 0) return false;
    this.refetches--;
    return true;
  }

  /** One fetch at a time; concurrent reports wait for the same one. */
  private refresh(): Promise<boolean> {
    this.inFlight ??= this.fetchKeys().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async fetchKeys(): Promise<boolean> {
    const url = this.config.secretScanning.githubKeysUrl;
    try {
      const res = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(GITHUB_KEYS_FETCH_TIMEOUT_MS),
        redirect: 'error',
      });
      if (!res.ok) throw new Error(`status ${res.status}`);
      const text = await res.text();
      if (text.length > MAX_KEYS_RESPONSE_BYTES) throw new Error('response too large');
      const keys = parseGithubKeys(JSON.parse(text));
      if (keys.size === 0) throw new Error('no usable P-256 key in the response');
      this.keys = keys;
      this.fetchedAt = Date.now();
      return true;
    } catch (e) {
      // Stale keys are not kept for later: a list that cannot be read again is not trusted.
      this.keys = new Map();
      this.fetchedAt = 0;
      this.logger.event('warn', 'secret-scanning public keys could not be read: reports are refused', { err: (e as Error).message });
      return false;
    }
  }
}

/** The P-256 keys of GitHub's answer by identifier; entries of any other shape are skipped. */
export function parseGithubKeys(value: unknown): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  const list = (value as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(list)) return keys;
  for (const entry of list) {
    const { key_identifier: id, key: pem } = (entry ?? {}) as { key_identifier?: unknown; key?: unknown };
    if (typeof id !== 'string' || typeof pem !== 'string' || !IDENTIFIER_FORMAT.test(id)) continue;
    try {
      const key = createPublicKey(pem);
      if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') keys.set(id, key);
    } catch {
      continue;
    }
  }
  return keys;
}
