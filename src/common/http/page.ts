import type { Pagination } from './envelope';

/**
 * A page of a list. Controllers return it; the envelope interceptor puts `items` into `data` and
 * `pagination` beside it, and merges `metadata` into the response metadata.
 */
export class Page<T> {
  readonly pagination: Pagination;

  constructor(
    readonly items: T[],
    total: number,
    limit: number,
    offset: number,
    readonly metadata?: Record<string, unknown>,
  ) {
    this.pagination = { total, returned: items.length, limit, offset, hasMore: offset + items.length < total };
  }
}
