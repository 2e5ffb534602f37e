/**
 * A timestamp as the API writes it (ISO 8601 in UTC), or null. Accepts what the driver hands back
 * for timestamptz (a Date) and what JSON aggregates hand back (a string).
 */
export function isoOrNull(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return (typeof value === 'string' ? new Date(value) : value).toISOString();
}
