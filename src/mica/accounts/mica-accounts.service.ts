import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import type { AuditEventDto } from '../../audit/audit-event.dto';
import type { Actor } from '../../domain/actor';
import { APP_CONFIG, AppConfig } from '../../config/app.config';
import { AppException } from '../../common/errors/app.exception';
import { Page } from '../../common/http/page';
import { isUniqueViolation } from '../../database/sql';
import { Transactions } from '../../database/transactions';
import { KeyInvalidationService, keyTag } from '../../key-cache/key-invalidation.service';
import { newManagementToken, newMicaKey } from '../../domain/mica-credentials';
import { canonicalEmail } from '../../domain/email-canonical';
import { WebhookOutbox } from '../../webhooks/webhook-outbox.repository';
import type { DeveloperEventType } from '../../webhooks/webhook-events';
import { actorFacts, micaKeyFacts } from '../../webhooks/webhook-payloads';
import { MicaAccountRepository } from './mica-account.repository';
import {
  CreateMicaKeyDto,
  ManagementTokenRotatedDto,
  MicaDeveloperDto,
  MicaKeyCreatedDto,
  MicaKeyDto,
  MicaKeysDto,
  MicaLimitsDto,
  RegisterDeveloperDto,
  RegistrationDto,
} from './mica-account.dto';

export const MICA_MAX_ACTIVE_KEYS = 3;
const DEFAULT_KEY_NAME = 'key';
/** Revoked keys shown in the list; active ones (at most 3) are always shown. */
const LISTED_REVOKED_KEYS = 50;

const EMAIL_INDEXES = new Set(['mica_developers_email_key', 'mica_developers_email_canonical_key']);

const KEY_NOT_FOUND = () => new AppException('NOT_FOUND', 'Key not found.');

@Injectable()
export class MicaAccountsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tx: Transactions,
    private readonly accounts: MicaAccountRepository,
    private readonly audit: AuditService,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  get limits(): MicaLimitsDto {
    return { perMinute: this.config.rateLimits.micaPerMinute, perDay: this.config.rateLimits.micaPerDay, maxKeys: MICA_MAX_ACTIVE_KEYS };
  }

  /** A new account with its first key and its management token, or EMAIL_EXISTS (also under concurrent signups). */
  async register(dto: RegisterDeveloperDto, actor: Actor): Promise<RegistrationDto> {
    const token = newManagementToken();
    try {
      return await this.tx.run(async () => {
        // email_canonical is what is unique: one account per mailbox, however the address is spelt.
        const developer = await this.accounts.insertDeveloper(dto.email, canonicalEmail(dto.email), dto.name, token.digest);
        const self: Actor = { ...actor, type: 'developer', id: developer.id };
        await this.audit.record(
          {
            action: 'mica.developer.registered',
            target: { type: 'mica_developer', id: developer.id },
            developerId: developer.id,
            details: { name: developer.name, email: developer.email },
          },
          self,
          this.tx.manager,
        );
        const key = await this.insertKey(developer.id, DEFAULT_KEY_NAME, self, 'mica.key.created');
        return { developer: MicaDeveloperDto.from(developer), apiKey: key.apiKey, managementToken: token.plaintext, limits: this.limits };
      });
    } catch (e) {
      if (isUniqueViolation(e, EMAIL_INDEXES)) throw new AppException('EMAIL_EXISTS');
      throw e;
    }
  }

  async listKeys(developerId: string): Promise<MicaKeysDto> {
    const [developer, keys] = await Promise.all([
      this.accounts.developer(developerId),
      this.accounts.listKeys(developerId, LISTED_REVOKED_KEYS),
    ]);
    if (!developer) throw new AppException('INVALID_TOKEN');
    return { developer: MicaDeveloperDto.from(developer), keys: keys.map(MicaKeyDto.from), limits: this.limits };
  }

  createKey(developerId: string, dto: CreateMicaKeyDto, actor: Actor, tokenDigest?: Buffer): Promise<MicaKeyCreatedDto> {
    return this.changeAccount(developerId, tokenDigest, async () => {
      const active = await this.accounts.countActiveKeys(developerId);
      if (active >= MICA_MAX_ACTIVE_KEYS)
        throw new AppException('KEY_LIMIT_REACHED', `An account has at most ${MICA_MAX_ACTIVE_KEYS} active keys.`);
      return this.insertKey(developerId, dto.name ?? DEFAULT_KEY_NAME, actor, 'mica.key.created');
    });
  }

  /** A new key under the same name; the old one is revoked in the same transaction, so rotating works at the cap. */
  rotateKey(developerId: string, keyId: string, actor: Actor, tokenDigest?: Buffer): Promise<MicaKeyCreatedDto> {
    return this.changeAccount(developerId, tokenDigest, async (invalidate) => {
      const old = await this.accounts.key(developerId, keyId);
      if (!old) throw KEY_NOT_FOUND();
      if (old.revokedAt) throw new AppException('KEY_NOT_ACTIVE', 'A revoked key cannot be rotated.');
      const created = await this.insertKey(developerId, old.name, actor, 'mica.key.created', old.id);
      const retired = await this.accounts.retireKey(old.id, created.id);
      invalidate(keyTag(old.id));
      await this.audit.record(
        {
          action: 'mica.key.rotated',
          target: { type: 'mica_key', id: old.id },
          developerId,
          details: { newKeyId: created.id, keyHint: old.keyHint },
        },
        actor,
        this.tx.manager,
      );
      await this.notify(developerId, 'mica.key.rotated', actor, {
        key: micaKeyFacts(MicaKeyDto.from(retired)),
        newKey: micaKeyFacts(created),
      });
      return created;
    });
  }

  revokeKey(developerId: string, keyId: string, actor: Actor, tokenDigest?: Buffer): Promise<MicaKeyDto> {
    return this.changeAccount(developerId, tokenDigest, async (invalidate) => {
      const key = await this.accounts.revokeKey(developerId, keyId);
      if (!key) {
        const exists = await this.accounts.key(developerId, keyId);
        throw exists ? new AppException('ALREADY_REVOKED') : KEY_NOT_FOUND();
      }
      invalidate(keyTag(keyId));
      await this.audit.record(
        { action: 'mica.key.revoked', target: { type: 'mica_key', id: key.id }, developerId, details: { keyHint: key.keyHint } },
        actor,
        this.tx.manager,
      );
      const revoked = MicaKeyDto.from(key);
      await this.notify(developerId, 'mica.key.revoked', actor, { key: micaKeyFacts(revoked) });
      return revoked;
    });
  }

  /**
   * The presented token stops working when this commits: the guard looks tokens up by their digest.
   * A compare-and-set on that digest, behind the row lock, so of parallel rotations with one token
   * exactly one succeeds and every token handed out works (the others answer INVALID_TOKEN).
   */
  rotateManagementToken(developerId: string, actor: Actor, tokenDigest?: Buffer): Promise<ManagementTokenRotatedDto> {
    const token = newManagementToken();
    return this.changeAccount(developerId, tokenDigest, async () => {
      const row = await this.accounts.rotateManagementToken(developerId, token.digest, tokenDigest ?? null);
      if (!row) throw new AppException('INVALID_TOKEN');
      await this.audit.record(
        { action: 'mica.management_token.rotated', target: { type: 'mica_developer', id: developerId }, developerId },
        actor,
        this.tx.manager,
      );
      const rotatedAt = new Date(row.token_rotated_at).toISOString();
      await this.notify(developerId, 'mica.management_token.rotated', actor, { rotatedAt });
      return { managementToken: token.plaintext, rotatedAt };
    });
  }

  events(developerId: string, limit: number, offset: number): Promise<Page<AuditEventDto>> {
    return this.audit.listForDeveloper(developerId, limit, offset, 'tenant');
  }

  /**
   * Every change to an account's keys or token runs here, serialised per account by a lock on the
   * developer row (which is what makes the 3-key cap hold under concurrent requests). A key that
   * stops being valid is reported to `invalidate`, which drops it from every replica's key-check
   * cache once the transaction commits.
   */
  private changeAccount<T>(
    developerId: string,
    tokenDigest: Buffer | undefined,
    work: (invalidate: (...tags: string[]) => void) => Promise<T>,
  ): Promise<T> {
    return this.invalidation.change(async (_manager, invalidate) => {
      // With the presented token's digest, the lock is taken only while it is still the account's
      // token: a change in flight when the token was rotated away answers INVALID_TOKEN, and so does one in flight when an operator suspends the account (under READ
      // COMMITTED, FOR UPDATE re-reads a row another transaction changed and re-applies the WHERE).
      if (!(await this.accounts.lockForOwnerChange(developerId, tokenDigest ?? null))) throw new AppException('INVALID_TOKEN');
      return work(invalidate);
    });
  }

  private async insertKey(
    developerId: string,
    name: string,
    actor: Actor,
    action: string,
    replacesKeyId: string | null = null,
  ): Promise<MicaKeyCreatedDto> {
    const key = newMicaKey();
    const stored = await this.accounts.insertKey(developerId, name, key);
    await this.audit.record(
      {
        action,
        target: { type: 'mica_key', id: stored.id },
        developerId,
        details: { name, keyHint: stored.keyHint, ...(replacesKeyId ? { replacesKeyId } : {}) },
      },
      actor,
      this.tx.manager,
    );
    const created = MicaKeyDto.from(stored);
    await this.notify(developerId, 'mica.key.created', actor, { key: micaKeyFacts(created), replacesKeyId });
    return { ...created, apiKey: key.plaintext, replacesKeyId };
  }

  /** The account's webhook event, in the change's own transaction (the outbox). */
  private async notify(developerId: string, type: DeveloperEventType, actor: Actor, data: Record<string, unknown>): Promise<void> {
    await WebhookOutbox.enqueue(this.tx.manager, {
      owner: { developerId },
      type,
      data: { developer: { id: developerId }, ...data, actor: actorFacts(actor) },
    });
  }
}
