/** Adds `n` to a shared window counter (creating it with the window's expiry) and returns the new total. */
export type AddToShared = (key: string, n: number, windowMs: number) => Promise<number>;

/** Counts collected here to go to the shared store in one call; `base` is the total before them. */
interface Batch {
  n: number;
  settled: Promise<number>;
  resolve: (base: number) => void;
}

interface Window {
  /** The shared total as the last settle returned it (our settled counts included). */
  known: number;
  /** Sent in the settle in flight. */
  sending: number;
  /** Counted here while the store failed; sent with the next batch. */
  failed: number;
  open: Batch;
  inflight?: Promise<void>;
  expiresAt: number;
}

function batch(): Batch {
  let resolve!: (base: number) => void;
  const settled = new Promise<number>((r) => (resolve = r));
  return { n: 0, settled, resolve };
}

/**
 * Window counters counted in this process and settled with the shared store (Redis) in batches,
 * so a key check does not wait on a round trip per request (docs/hot-path.md, "Per-key limit with
 * Redis"). Rules:
 * - the first count of a window on this replica settles at once, so a replica decides from the
 *   shared total from its first request on;
 * - a settle starts in the background once half a batch is pending;
 * - a count that would leave `batch` or more unsettled (pending + sending) waits for a settle
 *   first, so at any moment each replica holds fewer than `batch` counts the others cannot see.
 * Hence, with R replicas, at most limit + (R − 1) × (batch − 1) requests pass in one window, and
 * `batch` 1 is exact (a round trip per count, like plain increments). If the store fails, the
 * pending counts stay here and the decision uses what this replica knows (the limit then holds
 * per replica, as with the in-memory fallback) until a settle succeeds again.
 */
export class BatchedCounters {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly addToShared: AddToShared,
    private readonly onError: (e: unknown) => void,
    private readonly maxKeys = 100_000,
  ) {}

  /**
   * Counts one and returns its count in the window, as the shared store would: exactly for a count
   * that waited for its settle, else estimated from the last settled total plus what is counted
   * here since.
   */
  async increment(key: string, windowMs: number, size: number): Promise<number> {
    const now = Date.now();
    let w = this.windows.get(key);
    if (!w || w.expiresAt <= now) {
      if (!w && this.windows.size >= this.maxKeys) this.evict(now);
      w = { known: 0, sending: 0, failed: 0, open: batch(), expiresAt: now + windowMs };
      this.windows.set(key, w);
    }
    const b = w.open;
    const offset = ++b.n;
    const first = w.known === 0 && w.sending === 0 && w.failed === 0 && offset === 1;
    if (!first && w.sending + w.failed + b.n < size) {
      const count = w.known + w.sending + w.failed + offset;
      if (!w.inflight && 2 * (w.failed + b.n) >= size) void this.send(key, w, windowMs);
      return count;
    }
    // The first count of the window here, or one that would leave a whole batch unsettled: it
    // waits until its batch is in the shared store.
    if (w.inflight) await w.inflight;
    if (b === w.open) void this.send(key, w, windowMs);
    return (await b.settled) + offset;
  }

  /** Counts not yet in the shared store, for tests and the bench. */
  unsettled(key: string): number {
    const w = this.windows.get(key);
    return w ? w.sending + w.failed + w.open.n : 0;
  }

  /** Sends the open batch (and counts a failed settle left), unless a settle is in flight. */
  private send(key: string, w: Window, windowMs: number): Promise<void> {
    if (w.inflight) return w.inflight;
    const b = w.open;
    const n = b.n + w.failed;
    if (n === 0) return Promise.resolve();
    const older = w.failed;
    w.open = batch();
    w.failed = 0;
    w.sending = n;
    const ttl = Math.max(1, w.expiresAt - Date.now());
    w.inflight = this.addToShared(key, n, Math.min(windowMs, ttl)).then(
      (total) => {
        w.known = Math.max(w.known + n, total);
        w.sending = 0;
        w.inflight = undefined;
        b.resolve(total - b.n);
      },
      (e: unknown) => {
        // Counted here until the store answers again; the next settle sends these too.
        const base = w.known + older;
        w.failed += n;
        w.sending = 0;
        w.inflight = undefined;
        this.onError(e);
        b.resolve(base);
      },
    );
    return w.inflight;
  }

  private evict(now: number): void {
    for (const [key, w] of this.windows) if (w.expiresAt <= now) this.windows.delete(key);
    const excess = this.windows.size - Math.floor(this.maxKeys * 0.9);
    if (excess > 0) {
      let dropped = 0;
      for (const key of this.windows.keys()) {
        if (dropped++ >= excess) break;
        this.windows.delete(key);
      }
    }
  }
}
