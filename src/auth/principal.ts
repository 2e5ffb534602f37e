import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Actor } from '../domain/actor';
import type { ServiceName } from '../domain/platform-services';
import type { OperatorScope } from '../domain/operator-token.scopes';
import { canonicalAddress } from '../common/net/client-address';

export type Principal =
  | { kind: 'admin' }
  /** An operator token (SPEC §20); `instanceRefs` null means every instance. */
  | { kind: 'operator'; tokenId: string; name: string; scopes: OperatorScope[]; instanceRefs: string[] | null; expiresAt: Date | null }
  | { kind: 'instance_key'; keyId: string; instanceId: string; instanceRef: string; services: ServiceName[]; keyStatus: string }
  /** tokenDigest: the digest of the management token presented, compared again inside each change (SPEC §7). */
  | { kind: 'developer'; developerId: string; tokenDigest?: Buffer }
  | { kind: 'mica_key'; keyId: string; developerId: string };

export type AuthenticatedRequest = Request & { principal?: Principal; requestId?: string };

export function actorOf(req: AuthenticatedRequest): Actor {
  const p = req.principal;
  const base = { ip: req.ip ? canonicalAddress(req.ip) : null, requestId: req.requestId ?? null };
  switch (p?.kind) {
    case 'admin':
      return { type: 'admin', id: null, ...base };
    case 'operator':
      return { type: 'operator', id: p.tokenId, name: p.name, ...base };
    case 'instance_key':
      return { type: 'instance_key', id: p.keyId, ...base };
    case 'developer':
      return { type: 'developer', id: p.developerId, ...base };
    case 'mica_key':
      return { type: 'developer', id: p.developerId, ...base };
    default:
      return { type: 'anonymous', id: null, ...base };
  }
}

/** The authenticated caller, as the route's guard established it. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  return ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
});

/** The caller as an audit actor (principal, client address, request id). */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  return actorOf(ctx.switchToHttp().getRequest<AuthenticatedRequest>());
});

/** The instances an admin caller may see: null for every instance (ADMIN_TOKEN, unrestricted tokens). */
export function visibleInstanceRefs(p: Principal | undefined): string[] | null {
  return p?.kind === 'operator' ? p.instanceRefs : null;
}

/** The instances the caller may see, for a list to hold only those. */
export const VisibleInstances = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  return visibleInstanceRefs(ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal);
});
