/** The platform services an instance can have enabled; a key check names one of these. */
export const SERVICE_NAMES = ['customers', 'tokenization', 'trading', 'lending', 'custody'] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

export function isServiceName(value: unknown): value is ServiceName {
  return typeof value === 'string' && (SERVICE_NAMES as readonly string[]).includes(value);
}
