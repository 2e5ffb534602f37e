import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiResponse, ApiSecurity, DECORATORS } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/http/api-responses';
import type { OperatorScope } from '../domain/operator-token.scopes';
import { AdminAuthGuard } from './admin-auth.guard';
import { ADMIN_SCOPE_EXTENSION, ADMIN_SCOPE_METADATA, AdminScopeDeclaration, scopeSentence } from './admin-scope';
import { InstanceAuthGuard } from './instance-auth.guard';
import { ManagementTokenGuard } from './management-token.guard';
import { MicaKeyGuard } from './mica-key.guard';

export const ADMIN_SECURITY = 'admin-token';

/**
 * Opt-in admin authentication (ADMIN_TOKEN or an operator token): the guard, and its security scheme
 * and failures in the OpenAPI document. Every route under it declares its scope with `@AdminScope`;
 * a route that declares none is refused to every operator token (only ADMIN_TOKEN passes).
 */
export function AdminAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(AdminAuthGuard),
    ApiBearerAuth(ADMIN_SECURITY),
    ApiResponse({
      status: 401,
      type: ErrorResponseDto,
      description: '`UNAUTHORIZED` (no bearer token) or `INVALID_TOKEN` (wrong, revoked or expired).',
    }),
    ApiResponse({ status: 429, type: ErrorResponseDto, description: '`RATE_LIMIT_EXCEEDED`: too many failed attempts from this address.' }),
    ApiResponse({ status: 500, type: ErrorResponseDto, description: '`AUTH_ERROR`: an operator token could not be checked in time.' }),
  );
}

/**
 * The scope an admin route needs (SPEC §20), in one place: AdminAuthGuard refuses an operator token
 * without it (403 `INSUFFICIENT_SCOPE` naming it), and the OpenAPI operation gets the sentence in its
 * description, the `x-required-scope` extension and the 403. `allInstances`: the route reaches
 * beyond any one instance (creating an instance, deployment-wide trails), so a token restricted to
 * instances is refused too. Routes with an `instanceRef` path parameter are restricted to the
 * token's instances by the guard (others 404); lists use `@VisibleInstances()`.
 *
 * Write it on the method, above `@ApiOperation` (decorators apply bottom-up, so it then adds to the
 * description that `@ApiOperation` wrote instead of being overwritten by it).
 */
export function AdminScope(scope: OperatorScope, options: { allInstances?: boolean } = {}): MethodDecorator {
  const declaration: AdminScopeDeclaration = { scope, allInstances: options.allInstances ?? false };
  return applyDecorators(
    SetMetadata(ADMIN_SCOPE_METADATA, declaration),
    ApiExtension(ADMIN_SCOPE_EXTENSION, scope),
    ApiResponse({
      status: 403,
      type: ErrorResponseDto,
      description: `\`INSUFFICIENT_SCOPE\`: the operator token lacks \`${scope}\`${declaration.allInstances ? ' or is restricted to instances' : ''}.`,
    }),
    describeScope(scopeSentence(declaration)),
  );
}

/** Appends the scope sentence to the operation's OpenAPI description, keeping what `@ApiOperation` wrote. */
function describeScope(sentence: string): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const handler = descriptor.value as object;
    const operation = (Reflect.getMetadata(DECORATORS.API_OPERATION, handler) ?? {}) as { description?: string };
    const description = operation.description ? `${operation.description}\n\n${sentence}` : sentence;
    Reflect.defineMetadata(DECORATORS.API_OPERATION, { ...operation, description }, handler);
    return descriptor;
  };
}

export const MICA_KEY_SECURITY = 'mica-key';
export const MANAGEMENT_TOKEN_SECURITY = 'mica-management-token';

/** Opt-in MiCA key authentication (`X-API-Key: trusset_mica_…`) with the per-key data limits. */
export function MicaKeyAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(MicaKeyGuard),
    ApiSecurity(MICA_KEY_SECURITY),
    ApiResponse({
      status: 401,
      type: ErrorResponseDto,
      description: '`UNAUTHORIZED` (no key, or not a `trusset_mica_` key) or `INVALID_KEY` (malformed, unknown or revoked).',
    }),
    ApiResponse({
      status: 429,
      type: ErrorResponseDto,
      description: "`RATE_LIMIT_EXCEEDED`: the key's per-minute or per-day allowance is spent; see Retry-After.",
    }),
    ApiResponse({ status: 500, type: ErrorResponseDto, description: '`AUTH_ERROR`: the key could not be checked in time.' }),
  );
}

/** Opt-in MiCA developer authentication (`Authorization: Bearer <managementToken>`) with the key-management limit. */
export function ManagementTokenAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(ManagementTokenGuard),
    ApiBearerAuth(MANAGEMENT_TOKEN_SECURITY),
    ApiResponse({ status: 401, type: ErrorResponseDto, description: '`UNAUTHORIZED` (no bearer token) or `INVALID_TOKEN`.' }),
    ApiResponse({
      status: 429,
      type: ErrorResponseDto,
      description: '`RATE_LIMIT_EXCEEDED`: too many failed attempts from this address, or too many management requests.',
    }),
  );
}

export const INSTANCE_KEY_SECURITY = 'instance-key';

/**
 * Opt-in instance-key authentication (`X-API-Key: trusset_{instanceRef}_…`, SPEC §3) with the per-key
 * limit. `RequireService('…')` adds a required service on top.
 */
export function InstanceKeyAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(InstanceAuthGuard),
    ApiSecurity(INSTANCE_KEY_SECURITY),
    ApiResponse({
      status: 401,
      type: ErrorResponseDto,
      description: '`AUTH_REQUIRED` (no key) or `AUTH_FAILED` (malformed, unknown, revoked, expired, paused, or instance archived).',
    }),
    ApiResponse({
      status: 403,
      type: ErrorResponseDto,
      description: "`IP_NOT_ALLOWED`: the client address is outside the key's allowedCidrs (SPEC §12).",
    }),
    ApiResponse({
      status: 429,
      type: ErrorResponseDto,
      description: "`RATE_LIMIT_EXCEEDED`: the key's per-minute allowance is spent; see Retry-After.",
    }),
    ApiResponse({ status: 500, type: ErrorResponseDto, description: '`AUTH_ERROR`: the key could not be checked in time.' }),
  );
}
