/** SPEC §4: an ARCHIVED instance's keys fail every check until it is restored to ACTIVE. */
export type InstanceStatus = 'ACTIVE' | 'ARCHIVED';
