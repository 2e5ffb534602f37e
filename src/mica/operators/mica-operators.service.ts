import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import type { AuditEventDto } from '../../audit/audit-event.dto';
import type { Actor } from '../../domain/actor';
import { AppException } from '../../common/errors/app.exception';
import { isoOrNull } from '../../common/http/iso-date';
import { Page } from '../../common/http/page';
import { escapeLike } from '../../common/http/text';
import { Transactions } from '../../database/transactions';
import { developerTag, KeyInvalidationService, keyTag } from '../../key-cache/key-invalidation.service';
import { MicaKeyDto } from '../accounts/mica-account.dto';
import { MicaAccountRepository, OperatorDeveloperRow } from '../accounts/mica-account.repository';
import { WebhookOutbox } from '../../webhooks/webhook-outbox.repository';
import { actorFacts } from '../../webhooks/webhook-payloads';
import { ListDevelopersQueryDto, OperatorDeveloperDetailDto, OperatorDeveloperDto } from './mica-operators.dto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LISTED_KEYS = 100;
const notFound = () => new AppException('NOT_FOUND', 'Account not found.');

function toDto(r: OperatorDeveloperRow): OperatorDeveloperDto {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    status: r.status,
    createdAt: r.created_at.toISOString(),
    tokenRotatedAt: isoOrNull(r.token_rotated_at),
    suspendedAt: isoOrNull(r.suspended_at),
    suspensionReason: r.suspension_reason,
    erasedAt: isoOrNull(r.erased_at),
    activeKeys: r.active_keys,
    requestCount: Number(r.request_count),
    lastUsedAt: isoOrNull(r.last_used_at),
  };
}

/**
 * Operator controls of the free MiCA signup (SPEC §16). Every change runs in one transaction that
 * locks the developer row, the same lock every key and token change of the account takes, so a
 * suspension and a key rotation of that account are decided one after the other. The account's
 * cached key checks leave every replica's cache on commit (tag `developer:<id>`).
 */
@Injectable()
export class MicaOperatorsService {
  constructor(
    private readonly tx: Transactions,
    private readonly accounts: MicaAccountRepository,
    private readonly audit: AuditService,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  async list(query: ListDevelopersQueryDto): Promise<Page<OperatorDeveloperDto>> {
    const search = query.search?.trim();
    const { rows, total } = await this.accounts.listForOperator(
      {
        status: query.status,
        like: query.search ? `%${escapeLike(search!.toLowerCase())}%` : undefined,
        id: search && UUID.test(search) ? search.toLowerCase() : undefined,
      },
      query.limit,
      query.offset,
    );
    return new Page(rows.map(toDto), total, query.limit, query.offset);
  }

  async get(id: string): Promise<OperatorDeveloperDetailDto> {
    const developer = await this.find(id);
    const keys = await this.accounts.allKeys(id, LISTED_KEYS);
    return { developer: toDto(developer), keys: keys.map(MicaKeyDto.from) };
  }

  async events(id: string, limit: number, offset: number): Promise<Page<AuditEventDto>> {
    await this.find(id);
    return this.audit.listForDeveloper(id, limit, offset);
  }

  /** Every key and the management token fail from the next request; the mailbox stays taken. Suspending a suspended account changes nothing. */
  suspend(id: string, reason: string, actor: Actor): Promise<OperatorDeveloperDto> {
    return this.change(id, async (current, invalidate) => {
      if (current.status === 'ERASED') throw new AppException('ACCOUNT_ERASED');
      if (current.status === 'SUSPENDED') return current;
      await this.accounts.suspend(id, reason);
      await this.audit.record(
        { action: 'mica.developer.suspended', target: { type: 'mica_developer', id }, developerId: id, details: { reason } },
        actor,
        this.tx.manager,
      );
      invalidate(developerTag(id));
      return this.find(id);
    });
  }

  /** The keys that were valid before the suspension are valid again (none was revoked by it). */
  restore(id: string, actor: Actor): Promise<OperatorDeveloperDto> {
    return this.change(id, async (current, invalidate) => {
      if (current.status === 'ERASED') throw new AppException('ACCOUNT_ERASED');
      if (current.status === 'ACTIVE') return current;
      await this.accounts.restore(id);
      await this.audit.record(
        { action: 'mica.developer.restored', target: { type: 'mica_developer', id }, developerId: id },
        actor,
        this.tx.manager,
      );
      // Drops the "suspended" answers cached for the account's keys.
      invalidate(developerTag(id));
      return this.find(id);
    });
  }

  /**
   * Erasure: every key revoked, name and email removed (which frees the mailbox), the management
   * token replaced by a digest nobody holds a token for, and the account's audit events kept but
   * anonymised (name, email and client addresses removed). The record stays, anonymous, so the
   * trail still has something to point at.
   */
  erase(id: string, actor: Actor): Promise<OperatorDeveloperDto> {
    return this.change(id, async (current, invalidate) => {
      if (current.status === 'ERASED') throw new AppException('ACCOUNT_ERASED');
      const revoked = await this.accounts.revokeAllKeys(id);
      await this.accounts.erase(id, randomBytes(32));
      await this.accounts.anonymiseTrail(id);
      await this.audit.recordMany(
        revoked.map((k) => ({
          action: 'mica.key.revoked',
          target: { type: 'mica_key', id: k.id },
          developerId: id,
          details: { keyHint: k.key_hint, reason: 'account erased' },
        })),
        actor,
        this.tx.manager,
      );
      await WebhookOutbox.enqueueMany(
        this.tx.manager,
        revoked.map((k) => ({
          owner: { developerId: id },
          type: 'mica.key.revoked' as const,
          data: {
            key: { id: k.id, name: k.name, keyPrefix: k.key_prefix, keyHint: k.key_hint, isActive: false },
            reason: 'account erased',
            actor: actorFacts(actor),
          },
        })),
      );
      await this.audit.record(
        {
          action: 'mica.developer.erased',
          target: { type: 'mica_developer', id },
          developerId: id,
          details: { keysRevoked: revoked.length },
        },
        actor,
        this.tx.manager,
      );
      invalidate(developerTag(id), ...revoked.map((k) => keyTag(k.id)));
      return this.find(id);
    });
  }

  private async change(
    id: string,
    work: (current: OperatorDeveloperRow, invalidate: (...tags: string[]) => void) => Promise<OperatorDeveloperRow>,
  ): Promise<OperatorDeveloperDto> {
    return toDto(
      await this.invalidation.change(async (_manager, invalidate) => {
        if (!(await this.accounts.lock(id))) throw notFound();
        return work(await this.find(id), invalidate);
      }),
    );
  }

  private async find(id: string): Promise<OperatorDeveloperRow> {
    const row = await this.accounts.operatorView(id);
    if (!row) throw notFound();
    return row;
  }
}
