import { decideOperatorToken, OperatorTokenRow } from './operator-token.verifier';

const NOW = new Date('2026-12-01T10:00:00Z');
const row = (over: Partial<OperatorTokenRow> = {}): OperatorTokenRow => ({
  digest: Buffer.alloc(32),
  id: '6c988565-4b01-4aac-8f3b-75b342268c17',
  name: 'dashboard-backend',
  scopes: ['instances:read'],
  instance_refs: null,
  expires_at: null,
  revoked_at: null,
  now: NOW,
  ...over,
});

describe('decideOperatorToken', () => {
  it('passes an unrevoked token without expiry, with its scopes and instances', () => {
    expect(decideOperatorToken(row({ instance_refs: ['aB3dE5fG'] }))).toEqual({
      outcome: 'valid',
      identity: { tokenId: row().id, name: 'dashboard-backend', scopes: ['instances:read'], instanceRefs: ['aB3dE5fG'], expiresAt: null },
    });
  });

  it('refuses an unknown token without naming one', () => {
    expect(decideOperatorToken(undefined)).toEqual({ outcome: 'invalid' });
  });

  it('refuses a revoked token, naming it for the failed-attempt record', () => {
    expect(decideOperatorToken(row({ revoked_at: new Date('2026-11-30T00:00:00Z') }))).toEqual({ outcome: 'invalid', tokenId: row().id });
  });

  it('refuses a token from the instant of its expiry by the database clock, and passes it the millisecond before', () => {
    const at = NOW;
    expect(decideOperatorToken(row({ expires_at: at })).outcome).toBe('invalid');
    expect(decideOperatorToken(row({ expires_at: new Date(at.getTime() + 1) })).outcome).toBe('valid');
  });

  it('decides a cached row again against a later clock', () => {
    const cached = row({ expires_at: new Date(NOW.getTime() + 60_000) });
    expect(decideOperatorToken(cached).outcome).toBe('valid');
    expect(decideOperatorToken({ ...cached, now: new Date(NOW.getTime() + 60_000) }).outcome).toBe('invalid');
  });
});
