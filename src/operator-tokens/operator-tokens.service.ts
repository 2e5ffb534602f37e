import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEventDto } from '../audit/audit-event.dto';
import { AuditService } from '../audit/audit.service';
import { PaginationQueryDto } from '../common/http/pagination.dto';
import type { Principal } from '../auth/principal';
import type { Actor } from '../domain/actor';
import { AppException } from '../common/errors/app.exception';
import { Page } from '../common/http/page';
import { KeyInvalidationService, operatorTokenTag } from '../key-cache/key-invalidation.service';
import { CreateOperatorTokenDto, IssuedOperatorTokenDto, ListOperatorTokensQueryDto, OperatorTokenDto, OperatorTokenStatus } from './operator-token.dto';
import { generateOperatorToken } from '../domain/operator-token.material';
import type { OperatorScope } from '../domain/operator-token.scopes';

/** Who is managing tokens: ADMIN_TOKEN, or an operator token holding `tokens:manage`. */
type Manager = Extract<Principal, { kind: 'admin' } | { kind: 'operator' }>;

/** What an operator token may hand on: its own scopes, instances and lifetime, never more. */
interface Powers {
  scopes: OperatorScope[];
  instanceRefs: string[] | null;
  expiresAt: Date | null;
}

interface TokenRow {
  id: string;
  name: string;
  token_prefix: string;
  token_hint: string;
  scopes: OperatorScope[];
  instance_refs: string[] | null;
  expires_at: Date | null;
  created_at: Date;
  created_by_type: 'admin' | 'operator';
  created_by_id: string | null;
  created_by_name: string | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  request_count: string;
  status: OperatorTokenStatus;
}

const STATUS_SQL = `CASE WHEN t.revoked_at IS NOT NULL THEN 'REVOKED' WHEN t.expires_at IS NOT NULL AND t.expires_at <= now() THEN 'EXPIRED' ELSE 'ACTIVE' END`;
const COLUMNS = `t.id, t.name, t.token_prefix, t.token_hint, t.scopes, t.instance_refs, t.expires_at, t.created_at, t.created_by_type,
  t.created_by_id, t.created_by_name, t.revoked_at, t.last_used_at, t.request_count, ${STATUS_SQL} AS status`;

/**
 * Tokens within the holder's powers, as SQL over `t` with parameters from `first`: scopes a subset
 * of the holder's, instances a subset (an unrestricted token only for an unrestricted holder), and
 * an expiry no later than the holder's. An operator token sees and revokes only tokens it could
 * have created itself; a more powerful one is 404 to it, like another tenant's resource.
 */
function withinPowers(powers: Powers | null, first: number): { sql: string; params: unknown[] } {
  if (!powers) return { sql: 'TRUE', params: [] };
  return {
    sql: `t.scopes <@ $${first}::text[]
      AND ($${first + 1}::text[] IS NULL OR (t.instance_refs IS NOT NULL AND t.instance_refs <@ $${first + 1}::text[]))
      AND ($${first + 2}::timestamptz IS NULL OR (t.expires_at IS NOT NULL AND t.expires_at <= $${first + 2}::timestamptz))`,
    params: [powers.scopes, powers.instanceRefs, powers.expiresAt],
  };
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function toDto(row: TokenRow): OperatorTokenDto {
  return {
    id: row.id,
    name: row.name,
    tokenPrefix: row.token_prefix,
    tokenHint: row.token_hint,
    scopes: row.scopes,
    instanceRefs: row.instance_refs,
    status: row.status,
    expiresAt: iso(row.expires_at),
    createdAt: iso(row.created_at)!,
    createdBy: { type: row.created_by_type, id: row.created_by_id, name: row.created_by_name },
    revokedAt: iso(row.revoked_at),
    lastUsedAt: iso(row.last_used_at),
    requestCount: Number(row.request_count),
  };
}

const notFound = () => new AppException('NOT_FOUND', 'Operator token not found.');
const insufficient = (message: string, field: string, values: string[]) => new AppException('INSUFFICIENT_SCOPE', message, { [field]: values });

/**
 * Operator tokens (SPEC §20). Every change runs in one transaction that first locks the acting
 * token's row (FOR SHARE) and decides from that row, so a token revoked meanwhile changes nothing
 * (INVALID_TOKEN) and a revocation racing a creation waits for it. Revocation drops the token from
 * every replica's key-check cache after commit (KeyInvalidationService).
 */
@Injectable()
export class OperatorTokensService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly invalidation: KeyInvalidationService,
  ) {}

  async create(dto: CreateOperatorTokenDto, caller: Manager, actor: Actor): Promise<IssuedOperatorTokenDto> {
    const requested = dto.expiresAt === undefined ? undefined : new Date(dto.expiresAt);
    if (requested && Number.isNaN(requested.getTime())) throw new AppException('VALIDATION_ERROR', undefined, { expiresAt: ['expiresAt must be a valid ISO-8601 time'] });
    return this.dataSource.transaction(async (manager) => {
      const powers = await this.lockPowers(manager, caller);
      const missing = powers ? dto.scopes.filter((s) => !powers.scopes.includes(s)) : [];
      if (missing.length > 0) throw insufficient(`A token cannot grant scopes it does not hold: ${missing.join(', ')}.`, 'scopes', missing);

      // Omitted instanceRefs or expiresAt inherit the creator's own bounds; ADMIN_TOKEN has none.
      const instanceRefs = dto.instanceRefs === undefined ? (powers?.instanceRefs ?? null) : dto.instanceRefs;
      if (powers?.instanceRefs) {
        if (instanceRefs === null) throw insufficient('A token restricted to instances cannot grant every instance.', 'instanceRefs', ['every instance']);
        const foreign = instanceRefs.filter((r) => !powers.instanceRefs!.includes(r));
        if (foreign.length > 0) throw insufficient(`A token cannot grant instances it does not hold: ${foreign.join(', ')}.`, 'instanceRefs', foreign);
      }
      const expiresAt = requested ?? powers?.expiresAt ?? null;
      if (powers?.expiresAt && expiresAt && expiresAt.getTime() > powers.expiresAt.getTime()) {
        throw insufficient('A token cannot grant a lifetime beyond its own expiry.', 'expiresAt', [powers.expiresAt.toISOString()]);
      }
      if (requested) {
        const [{ future }] = await manager.query(`SELECT $1::timestamptz > now() AS future`, [requested]);
        if (!future) throw new AppException('VALIDATION_ERROR', 'expiresAt must be in the future.', { expiresAt: ['must be in the future'] });
      }
      if (instanceRefs && instanceRefs.length > 0) {
        const found: Array<{ ref: string }> = await manager.query(`SELECT ref FROM instances WHERE ref = ANY($1::text[])`, [instanceRefs]);
        const unknown = instanceRefs.filter((r) => !found.some((f) => f.ref === r));
        if (unknown.length > 0) throw new AppException('VALIDATION_ERROR', 'Unknown instance.', { instanceRefs: unknown.map((r) => `${r} is not an instance`) });
      }

      const material = generateOperatorToken();
      const creator = caller.kind === 'operator' ? { type: 'operator', id: caller.tokenId, name: caller.name } : { type: 'admin', id: null, name: null };
      const [row]: TokenRow[] = await manager.query(
        `INSERT INTO operator_tokens AS t (name, token_digest, token_prefix, token_hint, scopes, instance_refs, expires_at, created_by_type, created_by_id, created_by_name)
         VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7, $8, $9, $10)
         RETURNING ${COLUMNS}`,
        [dto.name, material.digest, material.prefix, material.hint, dto.scopes, instanceRefs, expiresAt, creator.type, creator.id, creator.name],
      );
      await this.audit.record(
        {
          action: 'operator_token.created',
          target: { type: 'operator_token', id: row.id },
          details: { name: row.name, scopes: row.scopes, instanceRefs: row.instance_refs, expiresAt: iso(row.expires_at) },
        },
        actor,
        manager,
      );
      return { ...toDto(row), token: material.plaintext };
    });
  }

  async list(query: ListOperatorTokensQueryDto, caller: Manager): Promise<Page<OperatorTokenDto>> {
    const scope = withinPowers(powersOf(caller), 1);
    const params = [...scope.params];
    let where = scope.sql;
    if (query.status) {
      params.push(query.status);
      where += ` AND ${STATUS_SQL} = $${params.length}`;
    }
    const [{ total }] = await this.dataSource.query(`SELECT count(*)::int AS total FROM operator_tokens t WHERE ${where}`, params);
    const rows: TokenRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM operator_tokens t WHERE ${where} ORDER BY t.created_at DESC, t.id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, query.limit, query.offset],
    );
    return new Page(rows.map(toDto), total, query.limit, query.offset);
  }

  async get(id: string, caller: Manager): Promise<OperatorTokenDto> {
    const scope = withinPowers(powersOf(caller), 2);
    const rows: TokenRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM operator_tokens t WHERE t.id = $1 AND ${scope.sql}`, [id, ...scope.params]);
    if (!rows[0]) throw notFound();
    return toDto(rows[0]);
  }

  /**
   * The token's trail. Any token's, whatever its powers: reading it needs `audit:read` on a token
   * that already sees every instance, and the trail holds no secret.
   */
  async events(id: string, query: PaginationQueryDto): Promise<Page<AuditEventDto>> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM operator_tokens WHERE id = $1`, [id]);
    if (rows.length === 0) throw notFound();
    return this.audit.listForOperatorToken(id, query.limit, query.offset);
  }

  /** Immediate and final; the token fails from the next request here and within the §6 bound elsewhere. A token may revoke itself. */
  async revoke(id: string, caller: Manager, actor: Actor): Promise<OperatorTokenDto> {
    return this.invalidation.change(async (manager, invalidate) => {
      // The acting token and the target are locked in one statement, in id order: two tokens
      // revoking each other at once then queue instead of deadlocking.
      const ids = caller.kind === 'operator' ? [caller.tokenId, id] : [id];
      const locked: LockedRow[] = await manager.query(
        `SELECT t.id, t.scopes, t.instance_refs, t.expires_at, t.revoked_at, (t.expires_at IS NOT NULL AND t.expires_at <= now()) AS expired
           FROM operator_tokens t WHERE t.id = ANY($1::uuid[]) ORDER BY t.id FOR UPDATE`,
        [ids],
      );
      const powers = caller.kind === 'operator' ? usablePowers(locked.find((r) => r.id === caller.tokenId)) : null;
      const target = locked.find((r) => r.id === id);
      if (!target || (powers && !within(target, powers))) throw notFound();
      if (target.revoked_at) throw new AppException('ALREADY_REVOKED', 'The token is already revoked.');
      // Recorded before the update: a token revoking itself is still the valid actor of its own revocation.
      await this.audit.record({ action: 'operator_token.revoked', target: { type: 'operator_token', id } }, actor, manager);
      // An UPDATE answers [rows, affected count] through TypeORM's query().
      const [[row]]: [TokenRow[], number] = await manager.query(`UPDATE operator_tokens AS t SET revoked_at = now() WHERE t.id = $1 RETURNING ${COLUMNS}`, [id]);
      invalidate(operatorTokenTag(id));
      return toDto(row);
    });
  }

  /**
   * The acting operator token's powers read from its row, locked FOR SHARE until the transaction
   * ends, or INVALID_TOKEN when it was revoked or expired after the guard admitted it; null for
   * ADMIN_TOKEN.
   */
  private async lockPowers(manager: EntityManager, caller: Manager): Promise<Powers | null> {
    if (caller.kind === 'admin') return null;
    const rows: Array<{ scopes: OperatorScope[]; instance_refs: string[] | null; expires_at: Date | null }> = await manager.query(
      `SELECT scopes, instance_refs, expires_at FROM operator_tokens
        WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) FOR SHARE`,
      [caller.tokenId],
    );
    if (!rows[0]) throw new AppException('INVALID_TOKEN');
    return { scopes: rows[0].scopes, instanceRefs: rows[0].instance_refs, expiresAt: rows[0].expires_at };
  }
}

interface LockedRow {
  id: string;
  scopes: OperatorScope[];
  instance_refs: string[] | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  expired: boolean;
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
