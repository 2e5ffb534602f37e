/** A MiCA developer account's state (SPEC §16): usable, suspended by an operator, or erased (no personal data left). */
export const ACCOUNT_STATUSES = ['ACTIVE', 'SUSPENDED', 'ERASED'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];
