import { FLOOD_REFUSALS, HOLD_INTERVALS, HOLD_REFUSALS, nextHold } from './refusal-pacer';

describe('nextHold (when 401s yield to admitted requests)', () => {
  it('paces once a flood of 401s shares the process with admitted requests', () => {
    expect(nextHold(0, { admitted: 120, refused: FLOOD_REFUSALS })).toBe(HOLD_INTERVALS);
  });

  it('never paces a flood with nobody else to serve', () => {
    expect(nextHold(0, { admitted: 0, refused: 10 * FLOOD_REFUSALS })).toBe(0);
  });

  it('never paces the odd refusal beside admitted traffic', () => {
    expect(nextHold(0, { admitted: 5000, refused: FLOOD_REFUSALS - 1 })).toBe(0);
  });

  it('stays on while the flood it slowed goes on at the lower rate', () => {
    expect(nextHold(HOLD_INTERVALS - 3, { admitted: 50, refused: HOLD_REFUSALS })).toBe(HOLD_INTERVALS);
  });

  it('holds for a while once the flood has gone, then stops', () => {
    let hold = nextHold(0, { admitted: 10, refused: FLOOD_REFUSALS });
    for (let i = 1; i < HOLD_INTERVALS; i++) {
      hold = nextHold(hold, { admitted: 10, refused: 0 });
      expect(hold).toBeGreaterThan(0);
    }
    expect(nextHold(hold, { admitted: 10, refused: 0 })).toBe(0);
  });
});
