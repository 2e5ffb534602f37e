export type CacheNamespace = 'instance' | 'mica';

interface Entry {
  value: unknown;
  expiresAt: number;
  tags: readonly string[];
}

export interface KeyCheckCacheOptions {
  maxEntries: number;
}

/**
 * Results of key checks by digest: bounded (least recently used evicted first), each entry tagged
 * with what can invalidate it (`key:<id>`, `instance:<id>`, `developer:<id>`).
 *
 * The epoch closes the race between a lookup and a concurrent change: a lookup remembers the epoch
 * when it starts and may only store its result if no invalidation happened meanwhile; otherwise it
 * could cache what it read just before the change committed.
 */
export class KeyCheckCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byTag = new Map<string, Set<string>>();
  private epochValue = 0;
  private availableValue = true;
  hits = 0;
  misses = 0;

  constructor(private readonly options: KeyCheckCacheOptions) {}

  get epoch(): number {
    return this.epochValue;
  }

  /** False while invalidations may be missed (notification channel down): every check goes to the database. */
  get available(): boolean {
    return this.availableValue && this.options.maxEntries > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get<T>(namespace: CacheNamespace, digest: Buffer, now = Date.now()): T | undefined {
    if (!this.available) return undefined;
    const id = this.id(namespace, digest);
    const entry = this.entries.get(id);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    if (entry.expiresAt <= now) {
      this.remove(id);
      this.misses++;
      return undefined;
    }
    // Re-inserting moves the entry to the back of the Map, which keeps eviction least-recently-used.
    this.entries.delete(id);
    this.entries.set(id, entry);
    this.hits++;
    return entry.value as T;
  }

  /** Stores a result read at `epochAtLookup`, unless an invalidation happened since. */
  set(namespace: CacheNamespace, digest: Buffer, value: unknown, ttlMs: number, tags: readonly string[], epochAtLookup: number): boolean {
    if (!this.available || ttlMs <= 0 || epochAtLookup !== this.epochValue) return false;
    const id = this.id(namespace, digest);
    this.remove(id);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest);
    }
    this.entries.set(id, { value, expiresAt: Date.now() + ttlMs, tags });
    for (const tag of tags) {
      let ids = this.byTag.get(tag);
      if (!ids) this.byTag.set(tag, (ids = new Set()));
      ids.add(id);
    }
    return true;
  }

  invalidate(tags: readonly string[]): void {
    this.epochValue++;
    for (const tag of tags) {
      const ids = this.byTag.get(tag);
      if (!ids) continue;
      for (const id of [...ids]) this.remove(id);
    }
  }

  clear(): void {
    this.epochValue++;
    this.entries.clear();
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

  private remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
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
