import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { JsonLogger } from '../common/logging/json-logger';
import { IdempotencyCrypto } from './idempotency.crypto';
import { IdempotencyRepository } from './idempotency.repository';

/** SPEC §13: a stored answer is replayed for 24 h. */
export const RETENTION_HOURS = 24;
/** A claim older than this belongs to a request that died (crash, lost connection): a retry may take it over. */
export const STALE_CLAIM_MS = 60_000;
const PRUNE_INTERVAL_MS = 10 * 60_000;
const POLL_MS = 20;

export interface IdempotentRequest {
  /** Who is asking (admin, an instance key, a developer, or a public client address). */
  scope: string;
  idempotencyKey: string;
  method: string;
  path: string;
  body: unknown;
}

/** Either this request does the work (and must `complete` or `release` its claim), or the first answer is replayed. */
export type Begun = { kind: 'owner'; claim: Claim } | { kind: 'replay'; status: number; body: unknown };

export interface Claim {
  id: Buffer;
  token: string;
  scope: string;
  idempotencyKey: string;
}

/**
 * Idempotency records in PostgreSQL, so every replica sees the same ones. The first request of a
 * key claims its record with an INSERT (the primary key decides between concurrent ones); identical
 * requests arriving meanwhile wait up to IDEMPOTENCY_WAIT_MS for its answer and replay it, else
 * answer IDEMPOTENCY_IN_PROGRESS. Only a success is stored: a failed request changed nothing (its
 * transaction rolled back), so its claim is released and a retry does the work again.
 */
@Injectable()
export class IdempotencyService implements OnModuleInit, OnModuleDestroy {
  readonly crypto: IdempotencyCrypto;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly records: IdempotencyRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: JsonLogger,
  ) {
    this.crypto = new IdempotencyCrypto(config.secrets.key);
  }

  onModuleInit(): void {
    this.timer = setInterval(
      () => void this.prune().catch((e: Error) => this.logger.event('warn', 'idempotency prune failed', { err: e.message })),
      PRUNE_INTERVAL_MS,
    );
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async begin(request: IdempotentRequest): Promise<Begun> {
    const id = this.crypto.recordId(request.scope, request.idempotencyKey);
    const fingerprint = this.crypto.fingerprint(request.method, request.path, request.body);
    const deadline = Date.now() + this.config.idempotency.waitMs;
    for (;;) {
      const token = randomUUID();
      // A new record, or taking over one that expired or whose owner died with the same request.
      if (await this.records.claim(id, fingerprint, token, RETENTION_HOURS, STALE_CLAIM_MS)) {
        return { kind: 'owner', claim: { id, token, scope: request.scope, idempotencyKey: request.idempotencyKey } };
      }

      const existing = await this.records.live(id);
      // Released (the first request failed) or expired between the two statements: claim again.
      if (!existing) continue;
      if (!fingerprint.equals(existing.fingerprint)) throw new AppException('IDEMPOTENCY_KEY_REUSED');
      if (existing.state === 'done') {
        const plaintext = this.crypto.open(request.scope, request.idempotencyKey, id, existing.sealed);
        if (plaintext === null) {
          throw new AppException(
            'CONFLICT',
            'The answer stored for this Idempotency-Key cannot be opened (SECRETS_KEY changed); use a new Idempotency-Key.',
          );
        }
        return { kind: 'replay', status: existing.statusCode, body: JSON.parse(plaintext) };
      }
      if (Date.now() >= deadline) throw new AppException('IDEMPOTENCY_IN_PROGRESS');
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** Stores the answer, sealed; from now on identical requests replay it. */
  async complete(claim: Claim, status: number, body: unknown): Promise<void> {
    const sealed = this.crypto.seal(claim.scope, claim.idempotencyKey, claim.id, JSON.stringify(body ?? null));
    await this.records.complete(claim.id, claim.token, status, sealed);
  }

  /** The request failed and changed nothing: forget the claim so a retry does the work. */
  async release(claim: Claim): Promise<void> {
    await this.records.release(claim.id, claim.token);
  }

  /** Removes records past their 24 h; answers how many. */
  async prune(): Promise<number> {
    return this.records.prune();
  }
}
