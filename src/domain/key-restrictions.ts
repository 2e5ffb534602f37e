import { Cidr, formatCidr, parseCidr, within } from '../common/net/cidr';
import { SERVICE_NAMES, ServiceName } from './platform-services';

/** SPEC §12: what narrows a key below its instance. `null` in a field is "no restriction". */
export interface KeyRestrictions {
  services: ServiceName[] | null;
  allowedCidrs: string[] | null;
  rateLimitPerMinute: number | null;
}

export const UNRESTRICTED: KeyRestrictions = { services: null, allowedCidrs: null, rateLimitPerMinute: null };
export const MAX_ALLOWED_CIDRS = 50;

/** Services in the platform's order, each once. */
export function sortServices(services: readonly ServiceName[]): ServiceName[] {
  return SERVICE_NAMES.filter((s) => services.includes(s));
}

/** What a key may reach: its subset of what the instance has now (an instance losing a service takes it from every key). */
export function effectiveServices(instanceServices: readonly ServiceName[], keyServices: readonly ServiceName[] | null): ServiceName[] {
  return sortServices(keyServices === null ? instanceServices : instanceServices.filter((s) => keyServices.includes(s)));
}

/**
 * Canonical, de-duplicated ranges in the order given, or the validation details of the entries
 * that are not ranges.
 */
export function canonicalCidrs(input: readonly string[]): { cidrs: string[] } | { details: Record<string, string[]> } {
  const bad = input.filter((text) => parseCidr(text) === null);
  if (bad.length > 0) {
    return {
      details: {
        allowedCidrs: bad.slice(0, 5).map((text) => `${JSON.stringify(text.slice(0, 60))} is not an IPv4 or IPv6 address or CIDR range`),
      },
    };
  }
  return { cidrs: [...new Set(input.map((text) => formatCidr(parseCidr(text)!)))] };
}

/** Stored (canonical) ranges, parsed once per cached key check. */
export function parsedCidrs(stored: readonly string[] | null): Cidr[] | null {
  return stored === null ? null : stored.map((text) => parseCidr(text)).filter((c): c is Cidr => c !== null);
}

/**
 * Why `result` reaches further than `acting` (empty: it does not). A key managing keys through
 * the self-service door must not mint or widen one beyond itself, or narrowing it would mean
 * nothing: `services` within its own effective services, every range inside one of its ranges,
 * a rate limit no higher than its own.
 */
export function grantExceeds(
  acting: KeyRestrictions,
  actingEffectiveServices: readonly ServiceName[],
  result: KeyRestrictions,
  resultEffectiveServices: readonly ServiceName[],
): string[] {
  const reasons: string[] = [];
  if (acting.services !== null && resultEffectiveServices.some((s) => !actingEffectiveServices.includes(s))) {
    reasons.push(`services: this key may only grant ${JSON.stringify(actingEffectiveServices)}`);
  }
  if (acting.allowedCidrs !== null) {
    const outer = parsedCidrs(acting.allowedCidrs)!;
    const inner = result.allowedCidrs === null ? null : parsedCidrs(result.allowedCidrs)!;
    if (inner === null || inner.some((c) => !outer.some((o) => within(c, o))))
      reasons.push("allowedCidrs: each range must lie inside one of this key's ranges");
  }
  if (acting.rateLimitPerMinute !== null && (result.rateLimitPerMinute === null || result.rateLimitPerMinute > acting.rateLimitPerMinute)) {
    reasons.push(`rateLimitPerMinute: at most this key's own ${acting.rateLimitPerMinute}`);
  }
  return reasons;
}
