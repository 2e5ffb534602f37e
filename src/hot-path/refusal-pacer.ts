/** One interval's count of verify answers: admitted (200) and refused with 401. */
export interface AnswerSample {
  admitted: number;
  refused: number;
}

export const INTERVAL_MS = 50;
/** 401s per interval that start pacing (2,000 a second): more than any misconfigured client sends. */
export const FLOOD_REFUSALS = 100;
/** 401s per interval that keep it on (500 a second): pacing itself slows the flood, so it must not switch off at once. */
export const HOLD_REFUSALS = 25;
/** Intervals pacing stays on after the last one that called for it. */
export const HOLD_INTERVALS = 20;

/**
 * The pacing rule, pure: pace 401s while a flood of them shares the process with admitted requests,
 * and for HOLD_INTERVALS after. A flood with nobody else to serve is answered at full speed, and so
 * is a service with only the odd refusal.
 */
export function nextHold(hold: number, sample: AnswerSample): number {
  const threshold = hold > 0 ? HOLD_REFUSALS : FLOOD_REFUSALS;
  if (sample.admitted > 0 && sample.refused >= threshold) return HOLD_INTERVALS;
  return Math.max(0, hold - 1);
}

/**
 * 401s yield to admitted requests during a flood (docs/hot-path.md). A flood of made-up keys from
 * closed-loop clients otherwise takes an equal share of the event loop per connection, and every
 * customer's request waits behind the flood's. While pacing, a 401 of the verify route is written at
 * the next release, every `paceMs`: each of the flood's connections then sends one request per pace
 * instead of one per turn of the loop, and the loop goes to admitted requests. Every 401 waits alike
 * (missing, malformed, unknown, revoked, wrong instance), so the wait tells nothing about whether a
 * key exists; 403 and 429 (answers to a real key's owner) are never paced.
 */
export class RefusalPacer {
  private hold = 0;
  private sample: AnswerSample = { admitted: 0, refused: 0 };
  private release: Promise<void> | undefined;
  private readonly sampler: NodeJS.Timeout | undefined;

  constructor(private readonly paceMs: number) {
    if (paceMs > 0) this.sampler = setInterval(() => this.tick(), INTERVAL_MS).unref();
  }

  get pacing(): boolean {
    return this.hold > 0;
  }

  admitted(): void {
    this.sample.admitted++;
  }

  refused(): void {
    this.sample.refused++;
  }

  /** Resolves at the next release; one timer serves every refusal waiting for it. */
  wait(): Promise<void> {
    return (this.release ??= new Promise<void>((resolve) => {
      setTimeout(() => {
        this.release = undefined;
        resolve();
      }, this.paceMs);
    }));
  }

  stop(): void {
    if (this.sampler) clearInterval(this.sampler);
  }

  private tick(): void {
    this.hold = nextHold(this.hold, this.sample);
    this.sample = { admitted: 0, refused: 0 };
  }
}
