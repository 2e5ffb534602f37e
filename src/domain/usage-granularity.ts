/** The buckets usage history is read in (SPEC §17): UTC hours, or UTC days summed from them. */
export const GRANULARITIES = ['hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
