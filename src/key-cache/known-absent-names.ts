/** Answers which of `names` exist; names without a row are simply absent from the set. */
export type NameLookup = (names: string[]) => Promise<Set<string>>;

export interface KnownAbsentNamesOptions {
  /** How long a name found absent is answered from memory. */
  absentTtlMs: number;
  /** How long a name found present is not asked about again. */
  presentTtlMs: number;
  /** Names kept at most, each way. */
  maxEntries: number;
  /** Names one lookup asks for at most. */
  maxBatch: number;
  /** False while nothing may be answered from memory (the key-check cache off or suspended): every key gets its lookup. */
  enabled?: () => boolean;
}

/** A bounded map of names to expiry, oldest insertion evicted first. */
class Expiring {
  private readonly until = new Map<string, number>();

  constructor(private readonly max: number) {}

  has(name: string, now: number): boolean {
    const until = this.until.get(name);
    if (until === undefined) return false;
    if (until > now) return true;
    this.until.delete(name);
    return false;
  }

  add(name: string, until: number): void {
    this.until.delete(name);
    if (this.until.size >= this.max) this.until.delete(this.until.keys().next().value as string);
    this.until.set(name, until);
  }
}

/**
 * Names (instance refs) known not to exist, learned in the background from refused keys. It may
 * answer "absent" from memory for the same reason an unknown digest may be cached: a name is chosen
 * by the service at random (62^8 instance refs) when its row is created, so a client can only
 * present one that exists after its row committed; a name found absent becomes present only if the
 * service later picks that very name. A flood of made-up keys under a made-up ref then costs one
 * lookup per name and lifetime instead of one per key. Learning never delays an answer: the caller
 * reports a refused name, and one lookup at a time asks for all names reported meanwhile.
 */
export class KnownAbsentNames {
  private readonly absent: Expiring;
  private readonly present: Expiring;
  private readonly queued = new Set<string>();
  private readonly asking = new Set<string>();
  private running = false;

  constructor(
    private readonly lookup: NameLookup,
    private readonly options: KnownAbsentNamesOptions,
  ) {
    this.absent = new Expiring(options.maxEntries);
    this.present = new Expiring(options.maxEntries);
  }

  isAbsent(name: string, now = Date.now()): boolean {
    return this.absent.has(name, now) && (this.options.enabled?.() ?? true);
  }

  /** A key under `name` was refused as unknown: find out, in the background, whether the name exists at all. */
  report(name: string, now = Date.now()): void {
    if (this.options.enabled?.() === false) return;
    if (this.queued.has(name) || this.asking.has(name) || this.queued.size >= this.options.maxEntries) return;
    if (this.present.has(name, now) || this.absent.has(name, now)) return;
    this.queued.add(name);
    if (!this.running) {
      this.running = true;
      // After this turn of the loop, so the names refused meanwhile go in the same lookup.
      setImmediate(() => void this.drain());
    }
  }

  /** Settles once every reported name has been looked up (for tests). */
  async settled(): Promise<void> {
    while (this.running || this.queued.size > 0) await new Promise((r) => setImmediate(r));
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued.size > 0) {
        const batch = [...this.queued].slice(0, this.options.maxBatch);
        for (const name of batch) {
          this.queued.delete(name);
          this.asking.add(name);
        }
        let found: Set<string>;
        try {
          found = await this.lookup(batch);
        } catch {
          // Nothing learned: every key under these names keeps its lookup, as before.
          for (const name of batch) this.asking.delete(name);
          continue;
        }
        const now = Date.now();
        for (const name of batch) {
          if (found.has(name)) this.present.add(name, now + this.options.presentTtlMs);
          else this.absent.add(name, now + this.options.absentTtlMs);
          this.asking.delete(name);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
