import { constraintOf, isUniqueViolation } from './sql';

// What TypeORM's QueryFailedError carries for a unique violation: the driver's error with its fields.
const violation = (constraint: string) => ({ driverError: { code: '23505', constraint } });

describe('isUniqueViolation', () => {
  it('recognises a unique violation of any constraint when none is named', () => {
    expect(isUniqueViolation(violation('instance_keys_one_successor'))).toBe(true);
  });

  it('matches only the named constraint, or one of a set', () => {
    expect(isUniqueViolation(violation('a'), 'a')).toBe(true);
    expect(isUniqueViolation(violation('a'), 'b')).toBe(false);
    expect(isUniqueViolation(violation('b'), new Set(['a', 'b']))).toBe(true);
  });

  it('refuses other SQLSTATEs and non-errors', () => {
    expect(isUniqueViolation({ driverError: { code: '23503', constraint: 'a' } }, 'a')).toBe(false);
    expect(isUniqueViolation(undefined)).toBe(false);
    expect(isUniqueViolation('23505')).toBe(false);
  });
});

describe('constraintOf', () => {
  it('reads the constraint from the driver error or the error itself', () => {
    expect(constraintOf(violation('x'))).toBe('x');
    expect(constraintOf({ constraint: 'y' })).toBe('y');
    expect(constraintOf(new Error('no'))).toBeUndefined();
  });
});
