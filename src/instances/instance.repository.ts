import { Injectable } from '@nestjs/common';
import { firstRow, rows } from '../database/sql';
import { Transactions } from '../database/transactions';
import { escapeLike } from '../common/http/text';
import { Instance } from './instance.entity';
import type { InstanceStatus } from '../domain/instance-status';
import type { ServiceName } from '../domain/platform-services';

/** What an UPDATE sets; a field left out keeps its value. `archivedAt`: 'now' stamps it, null clears it. */
export interface InstanceChange {
  name?: string;
  services?: ServiceName[];
  status?: InstanceStatus;
  archivedAt?: 'now' | null;
}

const INSTANCE = `id, ref, name, services, status, created_at AS "createdAt", updated_at AS "updatedAt", archived_at AS "archivedAt"`;

export const INSTANCE_SQL = {
  insert: `INSERT INTO instances (ref, name, services) VALUES ($1, $2, $3) RETURNING ${INSTANCE}`,
  byRef: `SELECT ${INSTANCE} FROM instances WHERE ref = $1`,
  lockByRef: `SELECT ${INSTANCE} FROM instances WHERE ref = $1 FOR UPDATE`,
  /** `$5`: 'keep', 'now' or 'null', what becomes of archived_at. */
  update: `UPDATE instances SET
       name = COALESCE($2, name),
       services = COALESCE($3::text[], services),
       status = COALESCE($4, status),
       archived_at = CASE WHEN $5::text = 'keep' THEN archived_at WHEN $5::text = 'now' THEN now() ELSE NULL END,
       updated_at = now()
 WHERE id = $1
RETURNING ${INSTANCE}`,
} as const;

/** The instances table; every statement runs in the running transaction (Transactions), if any. */
@Injectable()
export class InstanceRepository {
  constructor(private readonly tx: Transactions) {}

  /** A unique violation of `instances_ref_key` when the ref is taken. */
  async insert(ref: string, name: string, services: ServiceName[]): Promise<Instance> {
    const [row] = await rows<Instance>(this.tx.manager, INSTANCE_SQL.insert, [ref, name, services]);
    return row;
  }

  byRef(ref: string): Promise<Instance | undefined> {
    return firstRow<Instance>(this.tx.manager, INSTANCE_SQL.byRef, [ref]);
  }

  /** The row, locked FOR UPDATE until the transaction ends. */
  lockByRef(ref: string): Promise<Instance | undefined> {
    return firstRow<Instance>(this.tx.manager, INSTANCE_SQL.lockByRef, [ref]);
  }

  async update(id: string, set: InstanceChange): Promise<Instance> {
    const archivedAt = 'archivedAt' in set ? (set.archivedAt === 'now' ? 'now' : 'null') : 'keep';
    const [row] = await rows<Instance>(this.tx.manager, INSTANCE_SQL.update, [
      id,
      set.name ?? null,
      set.services ?? null,
      set.status ?? null,
      archivedAt,
    ]);
    return row;
  }

  /** A page of instances, newest first, with the total: the ORM read that keeps the Instance entity (filters, count and page in one builder). */
  page(
    filter: { refs: string[] | null; status?: InstanceStatus; search?: string },
    limit: number,
    offset: number,
  ): Promise<[Instance[], number]> {
    const qb = this.tx.manager.getRepository(Instance).createQueryBuilder('i');
    if (filter.refs) qb.andWhere('i.ref = ANY(:visibleRefs)', { visibleRefs: filter.refs });
    if (filter.status) qb.andWhere('i.status = :status', { status: filter.status });
    if (filter.search) qb.andWhere(`lower(i.name) LIKE :pattern ESCAPE '\\'`, { pattern: `%${escapeLike(filter.search.toLowerCase())}%` });
    return qb.orderBy('i.created_at', 'DESC').addOrderBy('i.id', 'DESC').take(limit).skip(offset).getManyAndCount();
  }
}
