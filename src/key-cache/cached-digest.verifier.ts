import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { DigestLookupBatcher, DigestLookupBatcherOptions, digestId } from './digest-lookup.batcher';
import { CacheNamespace, KeyCheckCache } from './key-check.cache';
import { KnownAbsentNames } from './known-absent-names';

/** A credential's row as its lookup reads it: the digest it was found by, and the database clock at that read. */
export interface DigestRow {
  digest: Buffer;
  now: Date;
}

/**
 * What one kind of credential brings to the shared verifier besides its lookup: the tags a change
 * evicts its rows by, and its pure decision. Everything about caching is the verifier's.
 */
export interface DigestCredential<Row extends DigestRow, Kept, Context, Check> {
  namespace: CacheNamespace;
  /** Names the lookup in the timeout error. */
  what: string;
  /** What can make the row stale: a change reporting one of these evicts it on every replica. */
  tags(row: Row): readonly string[];
  /** What is worked out of a row once, when it is read, rather than again on every hit; nothing when absent. */
  keep?(row: Row): Kept;
  /** The decision on a row at database time `now`; pure, so a cached row is decided again on every hit. */
  decide(row: Row, kept: Kept, now: Date, context: Context): Check;
  /** The answer for a digest no row has. */
  unknown: Check;
}

/** The rows of the digests that have one, in any order; a digest without a row is simply absent. */
export type DigestLookup<Row> = (digests: Buffer[]) => Promise<Row[]>;

export interface CachedDigestOptions {
  positiveTtlMs: number;
  negativeTtlMs: number;
  maxUnknownEntries: number;
  lookups: Omit<DigestLookupBatcherOptions, 'what'>;
}

/** The configured cache lifetimes and lookup budget (KEY_CACHE_*, KEY_LOOKUP_*, AUTH_DECISION_TIMEOUT_MS). */
export function cachedDigestOptions(config: AppConfig): CachedDigestOptions {
  return {
    positiveTtlMs: config.cache.positiveTtlMs,
    negativeTtlMs: config.cache.negativeTtlMs,
    maxUnknownEntries: config.cache.maxUnknownEntries,
    lookups: {
      maxInFlight: config.cache.lookupConcurrency,
      maxBatch: config.cache.lookupBatchSize,
      timeoutMs: config.auth.decisionTimeoutMs,
    },
  };
}

/** A found row as the cache keeps it, with how far the database clock was ahead of ours when it was read. */
interface CachedRow<Row, Kept> {
  row: Row;
  kept: Kept;
  clockOffsetMs: number;
}

/**
 * The key check of every credential known by the digest of its whole secret: the key-check cache
 * first, then the credential's lookup, concurrent misses sharing one query (DigestLookupBatcher).
 * Rejects (never passes) when the database cannot answer within the lookup's deadline; callers turn
 * that into AUTH_ERROR.
 *
 * The cache epoch is taken before the lookup, and its result is stored only if no invalidation
 * happened meanwhile: otherwise a row read just before a change committed (a revocation) would be
 * cached after the change had evicted it. A found row is kept with the database clock as estimated
 * at the lookup and decided again on every hit against it, so expiry and the end of a pause or an
 * overlap need no eviction; an unknown digest is kept apart (KeyCheckCache) and needs no tags.
 *
 * A hit answers synchronously, a value rather than a promise, and allocates nothing of its own: the
 * instance-key check runs on every platform request.
 */
export class CachedDigestVerifier<Row extends DigestRow, Kept, Context, Check> {
  private readonly lookups: DigestLookupBatcher<Row>;

  constructor(
    private readonly cache: KeyCheckCache,
    private readonly credential: DigestCredential<Row, Kept, Context, Check>,
    lookup: DigestLookup<Row>,
    private readonly options: CachedDigestOptions,
  ) {
    this.lookups = new DigestLookupBatcher(async (digests) => new Map((await lookup(digests)).map((row) => [digestId(row.digest), row])), {
      ...options.lookups,
      what: credential.what,
    });
  }

  verify(digest: Buffer, context: Context): Check | Promise<Check> {
    const cached = this.cache.get<CachedRow<Row, Kept>>(this.credential.namespace, digest);
    if (cached === null) return this.credential.unknown;
    if (cached !== undefined) return this.credential.decide(cached.row, cached.kept, new Date(Date.now() + cached.clockOffsetMs), context);
    return this.lookUp(digest, context);
  }

  private async lookUp(digest: Buffer, context: Context): Promise<Check> {
    const { namespace } = this.credential;
    const epoch = this.cache.epoch;
    const row = await this.lookups.load(digest);
    if (!row) {
      this.cache.setUnknown(namespace, digest, this.options.negativeTtlMs, epoch);
      return this.credential.unknown;
    }
    const kept = this.credential.keep?.(row) as Kept;
    const entry: CachedRow<Row, Kept> = { row, kept, clockOffsetMs: row.now.getTime() - Date.now() };
    this.cache.set(namespace, digest, entry, this.options.positiveTtlMs, this.credential.tags(row), epoch);
    return this.credential.decide(row, kept, row.now, context);
  }
}

/**
 * Makes the cached verifier of a credential whose lookup is one SQL statement taking the digests as
 * `$1::bytea[]` (an index scan on the credential's unique digest), with the configured lifetimes
 * and budget. The statement is the one SQL of a verifier, kept beside its credential's decision.
 */
@Injectable()
export class CachedDigestVerifiers {
  private readonly options: CachedDigestOptions;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly cache: KeyCheckCache,
  ) {
    this.options = cachedDigestOptions(config);
  }

  create<Row extends DigestRow, Kept, Context, Check>(
    credential: DigestCredential<Row, Kept, Context, Check>,
    sql: string,
  ): CachedDigestVerifier<Row, Kept, Context, Check> {
    return new CachedDigestVerifier(this.cache, credential, (digests) => this.dataSource.query(sql, [digests]), this.options);
  }

  /**
   * The names (instance refs) known not to exist, for a credential whose keys carry one; `sql` takes
   * the names as `$1::text[]` and answers the existing ones as `name`. Absent names live as long as
   * unknown digests (KEY_CACHE_NEGATIVE_TTL_MS), as many as KEY_CACHE_MAX_UNKNOWN_ENTRIES, and only while the cache serves.
   */
  absentNames(sql: string): KnownAbsentNames {
    return new KnownAbsentNames(
      async (names) => new Set((await this.dataSource.query<Array<{ name: string }>>(sql, [names])).map((r) => r.name)),
      {
        absentTtlMs: this.options.negativeTtlMs,
        presentTtlMs: this.options.positiveTtlMs,
        maxEntries: this.options.maxUnknownEntries,
        maxBatch: this.options.lookups.maxBatch,
        // Like any cached answer: not while KEY_CACHE_MAX_ENTRIES is 0 or the invalidation channel is down.
        enabled: () => this.cache.available,
      },
    );
  }
}
