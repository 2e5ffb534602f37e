import { effectiveStatus, isUsable, KEY_STATUSES, KeyAction, KeyStatus, transition } from './instance-key.state';

const now = new Date('2026-11-27T12:00:00.000Z');
const at = (offsetSeconds: number) => new Date(now.getTime() + offsetSeconds * 1000);

describe('effectiveStatus', () => {
  it('keeps a stored state while nothing time-driven applies', () => {
    expect(effectiveStatus({ status: 'ACTIVE', expiresAt: null, pausedUntil: null }, now)).toBe('ACTIVE');
    expect(effectiveStatus({ status: 'ACTIVE', expiresAt: at(1), pausedUntil: null }, now)).toBe('ACTIVE');
    expect(effectiveStatus({ status: 'PAUSED', expiresAt: null, pausedUntil: at(1) }, now)).toBe('PAUSED');
    expect(effectiveStatus({ status: 'PENDING_ROTATION', expiresAt: at(1), pausedUntil: null }, now)).toBe('PENDING_ROTATION');
  });

  it('expires an ACTIVE key once its own expiry is reached, to the millisecond', () => {
    expect(effectiveStatus({ status: 'ACTIVE', expiresAt: now, pausedUntil: null }, now)).toBe('EXPIRED');
    expect(effectiveStatus({ status: 'ACTIVE', expiresAt: at(-1), pausedUntil: null }, now)).toBe('EXPIRED');
  });

  it('expires a PENDING_ROTATION key when its overlap window is over', () => {
    expect(effectiveStatus({ status: 'PENDING_ROTATION', expiresAt: at(-1), pausedUntil: null }, now)).toBe('EXPIRED');
  });

  it('makes a PAUSED key ACTIVE again when the pause is over', () => {
    expect(effectiveStatus({ status: 'PAUSED', expiresAt: null, pausedUntil: now }, now)).toBe('ACTIVE');
    expect(effectiveStatus({ status: 'PAUSED', expiresAt: at(60), pausedUntil: at(-1) }, now)).toBe('ACTIVE');
  });

  it('expires a PAUSED key whose own expiry passed during the pause', () => {
    expect(effectiveStatus({ status: 'PAUSED', expiresAt: at(-1), pausedUntil: at(60) }, now)).toBe('EXPIRED');
    expect(effectiveStatus({ status: 'PAUSED', expiresAt: at(-1), pausedUntil: at(-5) }, now)).toBe('EXPIRED');
  });

  it('keeps REVOKED final whatever the timestamps say', () => {
    expect(effectiveStatus({ status: 'REVOKED', expiresAt: at(-1), pausedUntil: at(-1) }, now)).toBe('REVOKED');
  });
});

describe('transition', () => {
  const allowed: Record<KeyAction, readonly KeyStatus[]> = {
    rotate: ['ACTIVE'],
    pause: ['ACTIVE', 'PAUSED'],
    resume: ['PAUSED'],
    revoke: ['ACTIVE', 'PAUSED', 'PENDING_ROTATION'],
    delete: KEY_STATUSES,
  };
  const cases = (Object.keys(allowed) as KeyAction[]).flatMap((action) => KEY_STATUSES.map((from) => [action, from] as const));

  it.each(cases)('%s from %s', (action, from) => {
    const result = transition(from, action);
    if (allowed[action].includes(from)) {
      expect(result).toEqual({ allowed: true });
    } else {
      const code = action === 'revoke' && from === 'REVOKED' ? 'ALREADY_REVOKED' : 'KEY_NOT_ACTIVE';
      expect(result).toEqual({ allowed: false, code });
    }
  });

  it('lets only ACTIVE and PENDING_ROTATION keys authenticate', () => {
    expect(KEY_STATUSES.filter(isUsable)).toEqual(['ACTIVE', 'PENDING_ROTATION']);
  });
});
