import { floodThresholds, HOLD_INTERVALS, nextHold } from './refusal-pacer';

// The default AUTH_REFUSAL_FLOOD_PER_SECOND, 2,000: 100 401s in one 50 ms interval start pacing, 25 keep it on.
const T = floodThresholds(2000);

describe('floodThresholds', () => {
  it('turns a rate a second into counts per 50 ms interval, a quarter of it to stay on', () => {
    expect(T).toEqual({ start: 100, hold: 25 });
    expect(floodThresholds(1)).toEqual({ start: 1, hold: 1 });
  });
});

describe('nextHold (when 401s yield to admitted requests)', () => {
  it('paces once a flood of 401s shares the process with admitted requests', () => {
    expect(nextHold(0, { admitted: 120, refused: T.start }, T)).toBe(HOLD_INTERVALS);
  });

  it('never paces a flood with nobody else to serve', () => {
    expect(nextHold(0, { admitted: 0, refused: 10 * T.start }, T)).toBe(0);
  });

  it('never paces the odd refusal beside admitted traffic', () => {
    expect(nextHold(0, { admitted: 5000, refused: T.start - 1 }, T)).toBe(0);
  });

  it('stays on while the flood it slowed goes on at the lower rate', () => {
    expect(nextHold(HOLD_INTERVALS - 3, { admitted: 50, refused: T.hold }, T)).toBe(HOLD_INTERVALS);
  });

  it('holds for a while once the flood has gone, then stops', () => {
    let hold = nextHold(0, { admitted: 10, refused: T.start }, T);
    for (let i = 1; i < HOLD_INTERVALS; i++) {
      hold = nextHold(hold, { admitted: 10, refused: 0 }, T);
      expect(hold).toBeGreaterThan(0);
    }
    expect(nextHold(hold, { admitted: 10, refused: 0 }, T)).toBe(0);
  });
});
