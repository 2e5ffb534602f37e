export type CacheNamespace = 'instance' | 'mica' | 'operator';

interface Entry {
  value: unknown;
  expiresAt: number;
  tags: readonly string[];
}

export interface KeyCheckCacheOptions {
  /** Found keys kept at most; 0 turns the whole cache off. */
  maxEntries: number;
  /** Unknown keys kept at most, apart from the found ones. */
  maxUnknownEntries: number;
}

/** Entries by id in least-recently-used order, at most `max`. */
class LruSegment {
  private readonly entries = new Map<string, Entry>();
  /** Entries pushed out to make room (not replaced, not expired). */
  evictions = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry, expired or not, now the most recently used. */
  touch(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    // Re-inserting moves the entry to the back of the Map, which keeps eviction least-recently-used.
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry;
  }

  /** Stores `entry`; answers what was replaced or had to make room for it (so its tags can be forgotten). */
  set(id: string, entry: Entry): Array<[string, Entry]> {
    const evicted: Array<[string, Entry]> = [];
    if (this.max === 0) return evicted;
    const previous = this.take(id);
    if (previous) evicted.push([id, previous]);
    while (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value as string;
      evicted.push([oldest, this.take(oldest)!]);
      this.evictions++;
    }
    this.entries.set(id, entry);
    return evicted;
  }

  take(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (entry) this.entries.delete(id);
    return entry;
  }

  clear(): void {
    this.entries.clear();
  }
}

const NO_TAGS: readonly string[] = [];

/**
 * Results of key checks by digest, bounded, least recently used evicted first. A found key's entry
 * is tagged with what can invalidate it (`key:<id>`, `instance:<id>`, `developer:<id>`). Unknown keys
 * live in a segment of their own: a flood of made-up keys, each unknown once, would otherwise push
 * every real key out and send all traffic to the database. An unknown digest needs no tags: no change
 * makes a key that did not exist pass (a new key has a new random digest; revocation is final).
 *
 * The epoch closes the race between a lookup and a concurrent change: a lookup remembers the epoch
 * when it starts and may only store its result if no invalidation happened meanwhile; otherwise it
 * could cache what it read just before the change committed.
 */
export class KeyCheckCache {
  private readonly found: LruSegment;
  private readonly unknown: LruSegment;
  private readonly byTag = new Map<string, Set<string>>();
  private epochValue = 0;
  private availableValue = true;
  hits = 0;
  misses = 0;

  constructor(private readonly options: KeyCheckCacheOptions) {
    this.found = new LruSegment(options.maxEntries);
    this.unknown = new LruSegment(options.maxUnknownEntries);
  }

  get epoch(): number {
    return this.epochValue;
  }

  /** False while invalidations may be missed (notification channel down): every check goes to the database. */
  get available(): boolean {
    return this.availableValue && this.options.maxEntries > 0;
  }

  get size(): number {
    return this.found.size + this.unknown.size;
  }

  /** Entries by segment, and how many were evicted to make room, for the metrics. */
  stats(): { found: number; unknown: number; evictions: number } {
    return { found: this.found.size, unknown: this.unknown.size, evictions: this.found.evictions + this.unknown.evictions };
  }

  /** The stored result, `null` for a key known to be unknown, `undefined` when nothing is stored. */
  get<T>(namespace: CacheNamespace, digest: Buffer, now = Date.now()): T | null | undefined {
    if (!this.available) return undefined;
    const id = this.id(namespace, digest);
    const entry = this.found.touch(id);
    if (entry && entry.expiresAt > now) {
      this.hits++;
      return entry.value as T;
    }
    if (entry) this.forgetTags(id, this.found.take(id));
    const unknown = this.unknown.touch(id);
    if (unknown && unknown.expiresAt > now) {
      this.hits++;
      return null;
    }
    if (unknown) this.unknown.take(id);
    this.misses++;
    return undefined;
  }

  /** Stores a found key's result read at `epochAtLookup`, unless an invalidation happened since. */
  set(namespace: CacheNamespace, digest: Buffer, value: unknown, ttlMs: number, tags: readonly string[], epochAtLookup: number): boolean {
    if (!this.storable(ttlMs, epochAtLookup)) return false;
    const id = this.id(namespace, digest);
    this.unknown.take(id);
    for (const [evictedId, evicted] of this.found.set(id, { value, expiresAt: Date.now() + ttlMs, tags }))
      this.forgetTags(evictedId, evicted);
    for (const tag of tags) {
      let ids = this.byTag.get(tag);
      if (!ids) this.byTag.set(tag, (ids = new Set()));
      ids.add(id);
    }
    return true;
  }

  /** Remembers that no key has this digest, read at `epochAtLookup`, unless an invalidation happened since. */
  setUnknown(namespace: CacheNamespace, digest: Buffer, ttlMs: number, epochAtLookup: number): boolean {
    if (!this.storable(ttlMs, epochAtLookup)) return false;
    const id = this.id(namespace, digest);
    this.forgetTags(id, this.found.take(id));
    this.unknown.set(id, { value: null, expiresAt: Date.now() + ttlMs, tags: NO_TAGS });
    return true;
  }

  invalidate(tags: readonly string[]): void {
    this.epochValue++;
    for (const tag of tags) {
      const ids = this.byTag.get(tag);
      if (!ids) continue;
      for (const id of [...ids]) this.forgetTags(id, this.found.take(id));
    }
  }

  clear(): void {
    this.epochValue++;
    this.found.clear();
    this.unknown.clear();
    this.byTag.clear();
  }

  /** Stops serving (and storing) until `resume`, which starts from an empty cache. */
  suspend(): void {
    this.availableValue = false;
    this.clear();
  }

  resume(): void {
    this.clear();
    this.availableValue = true;
  }

  private storable(ttlMs: number, epochAtLookup: number): boolean {
    return this.available && ttlMs > 0 && epochAtLookup === this.epochValue;
  }

  private forgetTags(id: string, entry: Entry | undefined): void {
    if (!entry) return;
    for (const tag of entry.tags) {
      const ids = this.byTag.get(tag);
      ids?.delete(id);
      if (ids && ids.size === 0) this.byTag.delete(tag);
    }
  }

  private id(namespace: CacheNamespace, digest: Buffer): string {
    return namespace + digest.toString('base64');
  }
}
