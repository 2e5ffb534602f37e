/**
 * What an operator token may do (SPEC §20). Each admin route declares exactly one of these with
 * `@AdminScope` (src/auth/auth.decorators.ts); no scope implies another, so a token holds exactly
 * what it was given.
 */
export const OPERATOR_SCOPES = [
  'instances:read',
  'instances:write',
  'keys:read',
  'keys:write',
  'webhooks:write',
  'mica:read',
  'mica:write',
  'register:sync',
  'audit:read',
  'tokens:manage',
] as const;

export type OperatorScope = (typeof OPERATOR_SCOPES)[number];
