import { isoOrNull } from './iso-date';

describe('isoOrNull', () => {
  it('writes a Date or a timestamp string as ISO 8601 in UTC', () => {
    expect(isoOrNull(new Date(Date.UTC(2026, 11, 1, 12, 0, 0)))).toBe('2026-12-01T12:00:00.000Z');
    expect(isoOrNull('2026-12-01 13:00:00+01')).toBe('2026-12-01T12:00:00.000Z');
  });

  it('answers null for a missing value', () => {
    expect(isoOrNull(null)).toBeNull();
    expect(isoOrNull(undefined)).toBeNull();
  });
});
