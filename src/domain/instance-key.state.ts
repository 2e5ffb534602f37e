import type { ErrorCode } from '../common/errors/error-codes';

/** What the database stores; EXPIRED and "pause over" are derived from timestamps when read. */
export const STORED_KEY_STATUSES = ['ACTIVE', 'PAUSED', 'PENDING_ROTATION', 'REVOKED'] as const;
export type StoredKeyStatus = (typeof STORED_KEY_STATUSES)[number];

export const KEY_STATUSES = ['ACTIVE', 'PAUSED', 'PENDING_ROTATION', 'EXPIRED', 'REVOKED'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

export interface KeyStateInput {
  status: StoredKeyStatus;
  expiresAt: Date | null;
  pausedUntil: Date | null;
}

/**
 * The state a key is in at `now` (the database clock). REVOKED is final and wins over everything;
 * an expiry at or before `now` (its own, or the end of a rotation overlap) makes it EXPIRED; a pause
 * whose end has come is ACTIVE again without anyone having written that down.
 */
export function effectiveStatus(key: KeyStateInput, now: Date): KeyStatus {
  if (key.status === 'REVOKED') return 'REVOKED';
  if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) return 'EXPIRED';
  if (key.status === 'PAUSED' && key.pausedUntil && key.pausedUntil.getTime() <= now.getTime()) return 'ACTIVE';
  return key.status;
}

/**
 * The same derivation in SQL, for filtering and compare-and-set updates; `alias` is the table alias.
 * Kept beside effectiveStatus so the two cannot drift apart unnoticed.
 */
export function effectiveStatusSql(alias: string): string {
  return `(CASE
    WHEN ${alias}.status = 'REVOKED' THEN 'REVOKED'
    WHEN ${alias}.expires_at IS NOT NULL AND ${alias}.expires_at <= now() THEN 'EXPIRED'
    WHEN ${alias}.status = 'PAUSED' AND ${alias}.paused_until IS NOT NULL AND ${alias}.paused_until <= now() THEN 'ACTIVE'
    ELSE ${alias}.status END)`;
}

/** A key passes authentication only in these states. */
export function isUsable(status: KeyStatus): boolean {
  return status === 'ACTIVE' || status === 'PENDING_ROTATION';
}

export type KeyAction = 'rotate' | 'pause' | 'resume' | 'revoke' | 'delete';

export type Transition = { allowed: true } | { allowed: false; code: ErrorCode };

const ALLOWED: Transition = { allowed: true };

/**
 * Whether a manual action may start from the effective state; the service writes the new state.
 * Pausing a paused key moves the end of its pause; revoking an expired key is refused like any
 * other operation on a final state; delete is always possible (it revokes first when needed).
 */
export function transition(from: KeyStatus, action: KeyAction): Transition {
  switch (action) {
    case 'rotate':
      return from === 'ACTIVE' ? ALLOWED : { allowed: false, code: 'KEY_NOT_ACTIVE' };
    case 'pause':
      return from === 'ACTIVE' || from === 'PAUSED' ? ALLOWED : { allowed: false, code: 'KEY_NOT_ACTIVE' };
    case 'resume':
      return from === 'PAUSED' ? ALLOWED : { allowed: false, code: 'KEY_NOT_ACTIVE' };
    case 'revoke':
      if (from === 'REVOKED') return { allowed: false, code: 'ALREADY_REVOKED' };
      if (from === 'EXPIRED') return { allowed: false, code: 'KEY_NOT_ACTIVE' };
      return ALLOWED;
    case 'delete':
      return ALLOWED;
  }
}
