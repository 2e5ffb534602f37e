import type { EntityManager } from 'typeorm';
import { sqlStateOf, UNIQUE_VIOLATION } from './database-errors';

/**
 * The one way a repository runs SQL: TypeORM's structured result (records and affected count),
 * whatever the statement. `manager.query` answers a SELECT's rows but `[rows, count]` for an UPDATE
 * or DELETE … RETURNING, which callers otherwise unpack each their own way.
 */
export async function execute<T>(
  manager: EntityManager,
  sql: string,
  params: readonly unknown[] = [],
): Promise<{ rows: T[]; affected: number }> {
  const own = manager.queryRunner ? undefined : manager.connection.createQueryRunner();
  const runner = manager.queryRunner ?? own!;
  try {
    const result = await runner.query(sql, params as unknown[], true);
    return { rows: (result.records ?? []) as T[], affected: result.affected ?? 0 };
  } finally {
    if (own) await own.release();
  }
}

/** The rows a statement returned (SELECT, or INSERT/UPDATE/DELETE … RETURNING). */
export async function rows<T>(manager: EntityManager, sql: string, params: readonly unknown[] = []): Promise<T[]> {
  return (await execute<T>(manager, sql, params)).rows;
}

/** The first row a statement returned, or undefined. */
export async function firstRow<T>(manager: EntityManager, sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
  return (await execute<T>(manager, sql, params)).rows[0];
}

/** The name of the constraint an error violated, as PostgreSQL reports it. */
export function constraintOf(error: unknown): string | undefined {
  const e = error as { constraint?: unknown; driverError?: { constraint?: unknown } };
  const name = e?.driverError?.constraint ?? e?.constraint;
  return typeof name === 'string' ? name : undefined;
}

/** True when `error` is a unique violation, of `constraint` (a name or one of a set) when given. */
export function isUniqueViolation(error: unknown, constraint?: string | ReadonlySet<string>): boolean {
  if (sqlStateOf(error) !== UNIQUE_VIOLATION) return false;
  if (constraint === undefined) return true;
  const name = constraintOf(error);
  return name !== undefined && (typeof constraint === 'string' ? name === constraint : constraint.has(name));
}
