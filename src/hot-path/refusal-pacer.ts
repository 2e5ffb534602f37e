/** One interval's count of verify answers: admitted (200) and refused with 401. */
export interface AnswerSample {
  admitted: number;
  refused: number;
}

export const INTERVAL_MS = 50;
/** Intervals pacing stays on after the last one that called for it. */
export const HOLD_INTERVALS = 20;

/** 401s per interval that start pacing, and (a quarter: pacing itself slows the flood) that keep it on. */
export function floodThresholds(floodPerSecond: number): { start: number; hold: number } {
  const start = Math.max(1, Math.ceil((floodPerSecond * INTERVAL_MS) / 1000));
  return { start, hold: Math.max(1, Math.ceil(start / 4)) };
}

/**
 * The pacing rule, pure: pace 401s while a flood of them shares the process with admitted requests,
 * and for HOLD_INTERVALS after. A flood with nobody else to serve is answered at full speed, and so
 * is a service with only the odd refusal.
 */
export function nextHold(hold: number, sample: AnswerSample, thresholds: { start: number; hold: number }): number {
  const threshold = hold > 0 ? thresholds.hold : thresholds.start;
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
  // Runs only while there is traffic to count, so an idle service (or a closed test app) keeps no timer.
  private sampler: NodeJS.Timeout | undefined;
  private readonly thresholds: { start: number; hold: number };

  /** `floodPerSecond`: 401s a second, beside admitted requests, that count as a flood (AUTH_REFUSAL_FLOOD_PER_SECOND). */
  constructor(
    private readonly paceMs: number,
    floodPerSecond: number,
  ) {
    this.thresholds = floodThresholds(floodPerSecond);
  }

  get pacing(): boolean {
    return this.hold > 0;
  }

  admitted(): void {
    this.sample.admitted++;
    if (this.sampler === undefined) this.start();
  }

  refused(): void {
    this.sample.refused++;
    if (this.sampler === undefined) this.start();
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

  private start(): void {
    if (this.paceMs > 0) this.sampler = setInterval(() => this.tick(), INTERVAL_MS).unref();
  }

  private tick(): void {
    const idle = this.sample.admitted === 0 && this.sample.refused === 0;
    this.hold = nextHold(this.hold, this.sample, this.thresholds);
    this.sample = { admitted: 0, refused: 0 };
    if (idle && this.hold === 0) {
      clearInterval(this.sampler);
      this.sampler = undefined;
    }
  }
}
