import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { JsonLogger } from '../common/logging/json-logger';
import { Transactions } from '../database/transactions';
import { KeyCheckCache } from './key-check.cache';

export const INVALIDATION_CHANNEL = 'trusset_key_invalidation';
/**
 * A connection that dies without an error (half-open TCP) is only noticed by a round trip. Beating
 * every 200 ms with a 400 ms bound suspends the cache at most ~600 ms after the channel went quiet,
 * inside the 1 s within which other replicas must honour a change, with room for a loaded event loop.
 */
const HEARTBEAT_MS = 200;
const HEARTBEAT_TIMEOUT_MS = 400;
const MAX_BACKOFF_MS = 2000;

/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; tags are ASCII (prefix and uuid). */
const MAX_PAYLOAD_BYTES = 7900;

/** The tags as JSON arrays each under the payload limit (a batch containment can touch 1,000 keys). */
export function notificationPayloads(tags: string[]): string[] {
  const payloads: string[] = [];
  let chunk: string[] = [];
  let size = 2;
  for (const tag of tags) {
    const cost = JSON.stringify(tag).length + 1;
    if (chunk.length > 0 && size + cost > MAX_PAYLOAD_BYTES) {
      payloads.push(JSON.stringify(chunk));
      chunk = [];
      size = 2;
    }
    chunk.push(tag);
    size += cost;
  }
  if (chunk.length > 0) payloads.push(JSON.stringify(chunk));
  return payloads;
}

/** Tags naming what a change can make stale in the key-check cache. */
export const keyTag = (keyId: string) => `key:${keyId}`;
export const instanceTag = (instanceId: string) => `instance:${instanceId}`;
export const developerTag = (developerId: string) => `developer:${developerId}`;
export const operatorTokenTag = (tokenId: string) => `operator-token:${tokenId}`;

/**
 * Keeps every replica's key-check cache honest. A change runs through `change()`: its tags are
 * published with pg_notify inside the transaction (PostgreSQL delivers them only if it commits) and
 * dropped from this process's cache right after commit. On a PostgreSQL server a dedicated
 * connection LISTENs for the other replicas' changes; whenever that connection is not known to be
 * healthy the cache is suspended, and it restarts empty once listening again, so a missed
 * notification can never let a revoked key through. The embedded database is one process: local
 * invalidation is all it needs.
 */
@Injectable()
export class KeyInvalidationService implements OnModuleInit, OnApplicationShutdown {
  /** The connection being opened or listening; events of any older one are ignored. */
  private client?: Client;
  private heartbeat?: NodeJS.Timeout;
  private reconnect?: NodeJS.Timeout;
  private attempts = 0;
  private stopped = false;
  /** Backend pid of the LISTEN connection (tests use it to cut the channel). */
  listenerPid?: number;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cache: KeyCheckCache,
    private readonly logger: JsonLogger,
    private readonly tx: Transactions,
  ) {}

  get listening(): boolean {
    return this.listenerPid !== undefined;
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.database.url) return;
    this.cache.suspend();
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnect);
    clearInterval(this.heartbeat);
    await this.client?.end().catch(() => undefined);
  }

  /**
   * Runs `work` in a transaction of Transactions (so repositories join it through `tx.manager`); the
   * tags it reports are invalidated everywhere once it commits. It must be the outermost one: inside
   * another, this process's cache would be cleared before the commit.
   */
  async change<T>(work: (manager: EntityManager, invalidate: (...tags: string[]) => void) => Promise<T>): Promise<T> {
    if (this.tx.active) throw new Error('KeyInvalidationService.change() must open its own transaction, not join one');
    const tags = new Set<string>();
    const result = await this.tx.run(async () => {
      const manager = this.tx.manager;
      const value = await work(manager, (...t) => t.forEach((tag) => tags.add(tag)));
      for (const payload of notificationPayloads([...tags]))
        await manager.query('SELECT pg_notify($1, $2)', [INVALIDATION_CHANNEL, payload]);
      return value;
    });
    if (tags.size > 0) this.cache.invalidate([...tags]);
    return result;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.config.database.url,
      application_name: 'trusset-key-invalidation',
      keepAlive: true,
      connectionTimeoutMillis: 2000,
    });
    this.client = client;
    client.on('notification', (msg) => this.onNotification(msg.payload));
    client.on('error', (e) => this.lost(client, e.message));
    client.on('end', () => this.lost(client, 'connection ended'));
    try {
      await client.connect();
      await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
      const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
      if (this.client !== client) return;
      this.listenerPid = pid;
      this.attempts = 0;
      this.cache.resume();
      this.heartbeat = setInterval(() => void this.beat(client), HEARTBEAT_MS);
      this.heartbeat.unref();
      this.logger.event('info', 'key invalidation channel listening');
    } catch (e) {
      await client.end().catch(() => undefined);
      this.lost(client, (e as Error).message);
    }
  }

  private beating = false;

  /** A half-open TCP connection reports nothing: a round trip proves the channel is still there. */
  private async beat(client: Client): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('heartbeat timed out')), HEARTBEAT_TIMEOUT_MS);
    });
    try {
      await Promise.race([client.query('SELECT 1'), timeout]);
    } catch (e) {
      this.lost(client, (e as Error).message);
      client.end().catch(() => undefined);
    } finally {
      clearTimeout(timer);
      this.beating = false;
    }
  }

  private lost(client: Client, reason: string): void {
    if (this.client !== client) return;
    const wasListening = this.listening;
    this.client = undefined;
    this.listenerPid = undefined;
    clearInterval(this.heartbeat);
    this.cache.suspend();
    if (this.stopped || this.reconnect) return;
    if (wasListening || this.attempts === 0) {
      this.logger.event('warn', 'key invalidation channel lost: key-check cache suspended', { reason });
    }
    const delay = Math.min(100 * 2 ** this.attempts++, MAX_BACKOFF_MS);
    this.reconnect = setTimeout(() => {
      this.reconnect = undefined;
      void this.connect();
    }, delay);
    this.reconnect.unref();
  }

  private onNotification(payload: string | undefined): void {
    try {
      const tags: unknown = JSON.parse(payload ?? '[]');
      if (Array.isArray(tags)) this.cache.invalidate(tags.filter((t): t is string => typeof t === 'string'));
      else this.cache.clear();
    } catch {
      this.cache.clear();
    }
  }
}
