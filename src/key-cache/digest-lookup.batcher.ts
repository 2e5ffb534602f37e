import { DatabaseTimeoutError } from '../database/database-errors';

export interface DigestLookupBatcherOptions {
  /** Lookup queries allowed in flight at once; lookups arriving meanwhile wait and go together in the next. */
  maxInFlight: number;
  /** Most digests one query asks for. */
  maxBatch: number;
  /** A lookup not answered within this many ms rejects with DatabaseTimeoutError (the caller's AUTH_ERROR). */
  timeoutMs: number;
  /** Names the lookup in the timeout error. */
  what: string;
}

interface Waiter<R> {
  resolve: (row: R | undefined) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

interface Pending<R> {
  digest: Buffer;
  waiters: Set<Waiter<R>>;
}

/** Answers rows by digest for one query; digests without a row are simply absent. */
export type DigestQuery<R> = (digests: Buffer[]) => Promise<Map<string, R>>;

export const digestId = (digest: Buffer): string => digest.toString('base64');

/**
 * Turns concurrent key lookups into few queries: while `maxInFlight` queries run, new lookups queue
 * and the next free slot asks for all of them (up to `maxBatch`) with one `= ANY($1)` query. A quiet
 * service sends each lookup at once, alone; a flood of unknown keys costs the database a handful of
 * queries per round trip instead of one each, and can never hold more than `maxInFlight` pool
 * connections, so the rest of the service keeps its connections.
 *
 * Only lookups that have not been sent are merged. Joining a query already running would hand a
 * caller rows read before a change that committed after the caller took its cache epoch, and the
 * cache would then store a result that is no longer true.
 */
export class DigestLookupBatcher<R> {
  private readonly pending = new Map<string, Pending<R>>();
  private inFlight = 0;

  constructor(
    private readonly query: DigestQuery<R>,
    private readonly options: DigestLookupBatcherOptions,
  ) {}

  load(digest: Buffer): Promise<R | undefined> {
    return new Promise<R | undefined>((resolve, reject) => {
      const id = digestId(digest);
      let entry = this.pending.get(id);
      if (!entry) this.pending.set(id, (entry = { digest, waiters: new Set() }));
      const queued = entry;
      const waiter: Waiter<R> = {
        resolve,
        reject,
        timer: setTimeout(() => {
          // A lookup given up on leaves the queue, so a stalled database cannot grow it without bound.
          queued.waiters.delete(waiter);
          if (queued.waiters.size === 0 && this.pending.get(id) === queued) this.pending.delete(id);
          reject(new DatabaseTimeoutError(this.options.what));
        }, this.options.timeoutMs),
      };
      queued.waiters.add(waiter);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.inFlight < this.options.maxInFlight && this.pending.size > 0) {
      const batch: Array<[string, Pending<R>]> = [];
      for (const item of this.pending) {
        batch.push(item);
        if (batch.length === this.options.maxBatch) break;
      }
      for (const [id] of batch) this.pending.delete(id);
      this.send(batch);
    }
  }

  private send(batch: Array<[string, Pending<R>]>): void {
    this.inFlight++;
    let released = false;
    // A query stuck past the deadline gives its slot back: its callers have already been answered,
    // and the pool's own limits bound what a stuck database can hold.
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(slotTimer);
      this.inFlight--;
      this.dispatch();
    };
    const slotTimer = setTimeout(release, this.options.timeoutMs);
    let rows: Promise<Map<string, R>>;
    try {
      rows = this.query(batch.map(([, entry]) => entry.digest));
    } catch (error) {
      rows = Promise.reject(error);
    }
    const answer = (settle: (waiter: Waiter<R>, id: string) => void) => {
      for (const [id, entry] of batch) {
        for (const waiter of entry.waiters) {
          clearTimeout(waiter.timer);
          settle(waiter, id);
        }
      }
      release();
    };
    rows.then(
      (found) => answer((waiter, id) => waiter.resolve(found.get(id))),
      (error: unknown) => answer((waiter) => waiter.reject(error)),
    );
  }
}
