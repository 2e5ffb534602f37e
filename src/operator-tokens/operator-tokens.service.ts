import { Injectable } from '@nestjs/common';
import { AuditEventDto } from '../audit/audit-event.dto';
import { AuditService } from '../audit/audit.service';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import type { Principal } from '../auth/principal';
import type { Actor } from '../domain/actor';
import { AppException } from '../common/errors/app.exception';
import { isoOrNull } from '../common/http/iso-date';
import { Page } from '../common/http/page';
import { Transactions } from '../database/transactions';
import { KeyInvalidationService, operatorTokenTag } from '../key-cache/key-invalidation.service';
import { CreateOperatorTokenDto, IssuedOperatorTokenDto, ListOperatorTokensQueryDto, OperatorTokenDto } from './operator-token.dto';
import { generateOperatorToken } from '../domain/operator-token.material';
import { LockedRow, OperatorTokenRepository, Powers, TokenRow } from './operator-token.repository';

/** Who is managing tokens: ADMIN_TOKEN, or an operator token holding `tokens:manage`. */
type Manager = Extract<Principal, { kind: 'admin' } | { kind: 'operator' }>;

function toDto(row: TokenRow): OperatorTokenDto {
  return {
    id: row.id,
    name: row.name,
    tokenPrefix: row.token_prefix,
    tokenHint: row.token_hint,
    scopes: row.scopes,
    instanceRefs: row.instance_refs,
    status: row.status,
    expiresAt: isoOrNull(row.expires_at),
    createdAt: row.created_at.toISOString(),
    createdBy: { type: row.created_by_type, id: row.created_by_id, name: row.created_by_name },
    revokedAt: isoOrNull(row.revoked_at),
    lastUsedAt: isoOrNull(row.last_used_at),
    requestCount: Number(row.request_count),
  };
}

const notFound = () => new AppException('NOT_FOUND', 'Operator token not found.');
const insufficient = (message: string, field: string, values: string[]) =>
  new AppException('INSUFFICIENT_SCOPE', message, { [field]: values });

/**
 * Operator tokens (SPEC §20). Every change runs in one transaction that first locks the acting
 * token's row (FOR SHARE) and decides from that row, so a token revoked meanwhile changes nothing
 * (INVALID_TOKEN) and a revocation racing a creation waits for it. Revocation drops the token from
 * every replica's key-check cache after commit (KeyInvalidationService).
 */
@Injectable()
export class OperatorTokensService {
  constructor(
    private readonly tx: Transactions,
    private readonly tokens: OperatorTokenRepository,
    private readonly audit: AuditService,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  async create(dto: CreateOperatorTokenDto, caller: Manager, actor: Actor): Promise<IssuedOperatorTokenDto> {
    const requested = dto.expiresAt === undefined ? undefined : new Date(dto.expiresAt);
    if (requested && Number.isNaN(requested.getTime()))
      throw new AppException('VALIDATION_ERROR', undefined, { expiresAt: ['expiresAt must be a valid ISO-8601 time'] });
    return this.tx.run(async () => {
      const powers = await this.lockPowers(caller);
      const missing = powers ? dto.scopes.filter((s) => !powers.scopes.includes(s)) : [];
      if (missing.length > 0) throw insufficient(`A token cannot grant scopes it does not hold: ${missing.join(', ')}.`, 'scopes', missing);

      // Omitted instanceRefs or expiresAt inherit the creator's own bounds; ADMIN_TOKEN has none.
      const instanceRefs = dto.instanceRefs === undefined ? (powers?.instanceRefs ?? null) : dto.instanceRefs;
      if (powers?.instanceRefs) {
        if (instanceRefs === null)
          throw insufficient('A token restricted to instances cannot grant every instance.', 'instanceRefs', ['every instance']);
        const foreign = instanceRefs.filter((r) => !powers.instanceRefs!.includes(r));
        if (foreign.length > 0)
          throw insufficient(`A token cannot grant instances it does not hold: ${foreign.join(', ')}.`, 'instanceRefs', foreign);
      }
      const expiresAt = requested ?? powers?.expiresAt ?? null;
      if (powers?.expiresAt && expiresAt && expiresAt.getTime() > powers.expiresAt.getTime()) {
        throw insufficient('A token cannot grant a lifetime beyond its own expiry.', 'expiresAt', [powers.expiresAt.toISOString()]);
      }
      if (requested) {
        if (!(await this.tokens.isFuture(requested)))
          throw new AppException('VALIDATION_ERROR', 'expiresAt must be in the future.', { expiresAt: ['must be in the future'] });
      }
      if (instanceRefs && instanceRefs.length > 0) {
        const found = await this.tokens.existingInstanceRefs(instanceRefs);
        const unknown = instanceRefs.filter((r) => !found.includes(r));
        if (unknown.length > 0)
          throw new AppException('VALIDATION_ERROR', 'Unknown instance.', { instanceRefs: unknown.map((r) => `${r} is not an instance`) });
      }

      const material = generateOperatorToken();
      const creator =
        caller.kind === 'operator' ? { type: 'operator', id: caller.tokenId, name: caller.name } : { type: 'admin', id: null, name: null };
      const row = await this.tokens.insert({
        name: dto.name,
        digest: material.digest,
        prefix: material.prefix,
        hint: material.hint,
        scopes: dto.scopes,
        instanceRefs,
        expiresAt,
        creator,
      });
      await this.audit.record(
        {
          action: 'operator_token.created',
          target: { type: 'operator_token', id: row.id },
          details: { name: row.name, scopes: row.scopes, instanceRefs: row.instance_refs, expiresAt: isoOrNull(row.expires_at) },
        },
        actor,
        this.tx.manager,
      );
      return { ...toDto(row), token: material.plaintext };
    });
  }

  async list(query: ListOperatorTokensQueryDto, caller: Manager): Promise<Page<OperatorTokenDto>> {
    const { rows, total } = await this.tokens.list(powersOf(caller), query.status, query.limit, query.offset);
    return new Page(rows.map(toDto), total, query.limit, query.offset);
  }

  async get(id: string, caller: Manager): Promise<OperatorTokenDto> {
    const row = await this.tokens.get(id, powersOf(caller));
    if (!row) throw notFound();
    return toDto(row);
  }

  /**
   * The token's trail. Any token's, whatever its powers: reading it needs `audit:read` on a token
   * that already sees every instance, and the trail holds no secret.
   */
  async events(id: string, query: PaginationQueryDto): Promise<Page<AuditEventDto>> {
    if (!(await this.tokens.exists(id))) throw notFound();
    return this.audit.listForOperatorToken(id, query.limit, query.offset);
  }

  /** Immediate and final; the token fails from the next request here and within the §6 bound elsewhere. A token may revoke itself. */
  async revoke(id: string, caller: Manager, actor: Actor): Promise<OperatorTokenDto> {
    return this.invalidation.change(async (_manager, invalidate) => {
      // The acting token and the target are locked together, in id order.
      const locked = await this.tokens.lockForRevocation(caller.kind === 'operator' ? [caller.tokenId, id] : [id]);
      const powers = caller.kind === 'operator' ? usablePowers(locked.find((r) => r.id === caller.tokenId)) : null;
      const target = locked.find((r) => r.id === id);
      if (!target || (powers && !within(target, powers))) throw notFound();
      if (target.revoked_at) throw new AppException('ALREADY_REVOKED', 'The token is already revoked.');
      // Recorded before the update: a token revoking itself is still the valid actor of its own revocation.
      await this.audit.record({ action: 'operator_token.revoked', target: { type: 'operator_token', id } }, actor, this.tx.manager);
      const row = await this.tokens.revoke(id);
      invalidate(operatorTokenTag(id));
      return toDto(row);
    });
  }

  /**
   * The acting operator token's powers read from its row, locked FOR SHARE until the transaction
   * ends, or INVALID_TOKEN when it was revoked or expired after the guard admitted it; null for
   * ADMIN_TOKEN.
   */
  private async lockPowers(caller: Manager): Promise<Powers | null> {
    if (caller.kind === 'admin') return null;
    const powers = await this.tokens.lockPowers(caller.tokenId);
    if (!powers) throw new AppException('INVALID_TOKEN');
    return powers;
  }
}

/** The acting token's powers from its locked row, or INVALID_TOKEN when it was revoked or expired after the guard admitted it. */
function usablePowers(row: LockedRow | undefined): Powers {
  if (!row || row.revoked_at || row.expired) throw new AppException('INVALID_TOKEN');
  return { scopes: row.scopes, instanceRefs: row.instance_refs, expiresAt: row.expires_at };
}

/** withinPowers, for a row already read. */
function within(t: Pick<LockedRow, 'scopes' | 'instance_refs' | 'expires_at'>, p: Powers): boolean {
  if (!t.scopes.every((s) => p.scopes.includes(s))) return false;
  if (p.instanceRefs && (!t.instance_refs || !t.instance_refs.every((r) => p.instanceRefs!.includes(r)))) return false;
  if (p.expiresAt && (!t.expires_at || new Date(t.expires_at).getTime() > new Date(p.expiresAt).getTime())) return false;
  return true;
}

function powersOf(caller: Manager): Powers | null {
  return caller.kind === 'admin' ? null : { scopes: caller.scopes, instanceRefs: caller.instanceRefs, expiresAt: caller.expiresAt };
}
