import { CreateInstancesAndAuditEvents1795815113141 } from './1795815113141-CreateInstancesAndAuditEvents';

/** Every migration, oldest first. A new migration is written by hand and added here. */
export const MIGRATIONS = [CreateInstancesAndAuditEvents1795815113141];
