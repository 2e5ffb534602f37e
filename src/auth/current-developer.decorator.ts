import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { AppException } from '../common/errors/app.exception';
import type { AuthenticatedRequest } from './principal';

/** The developer id the management-token guard established; only usable behind ManagementTokenAuth. */
export const CurrentDeveloperId = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (principal?.kind !== 'developer') throw new AppException('UNAUTHORIZED');
  return principal.developerId;
});

/**
 * The digest of the management token this request presented: the account's changes compare it
 * again under the developer-row lock, so a token rotated away while the request was in flight
 * changes nothing.
 */
export const CurrentTokenDigest = createParamDecorator((_: unknown, ctx: ExecutionContext): Buffer => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (principal?.kind !== 'developer' || !principal.tokenDigest) throw new AppException('UNAUTHORIZED');
  return principal.tokenDigest;
});
