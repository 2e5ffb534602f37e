import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiSecurity } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/http/api-responses';
import { AdminAuthGuard } from './admin-auth.guard';
import { InstanceAuthGuard } from './instance-auth.guard';
import { ManagementTokenGuard } from './management-token.guard';
import { MicaKeyGuard } from './mica-key.guard';

export const ADMIN_SECURITY = 'admin-token';

/** Opt-in admin authentication: the guard, and its security scheme and failures in the OpenAPI document. */
export function AdminAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(AdminAuthGuard),
    ApiBearerAuth(ADMIN_SECURITY),
    ApiResponse({ status: 401, type: ErrorResponseDto, description: '`UNAUTHORIZED` (no bearer token) or `INVALID_TOKEN`.' }),
    ApiResponse({ status: 429, type: ErrorResponseDto, description: '`RATE_LIMIT_EXCEEDED`: too many failed attempts from this address.' }),
  );
}

export const MICA_KEY_SECURITY = 'mica-key';
export const MANAGEMENT_TOKEN_SECURITY = 'mica-management-token';

/** Opt-in MiCA key authentication (`X-API-Key: trusset_mica_…`) with the per-key data limits. */
export function MicaKeyAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(MicaKeyGuard),
    ApiSecurity(MICA_KEY_SECURITY),
    ApiResponse({ status: 401, type: ErrorResponseDto, description: '`UNAUTHORIZED` (no key, or not a `trusset_mica_` key) or `INVALID_KEY` (malformed, unknown or revoked).' }),
    ApiResponse({ status: 429, type: ErrorResponseDto, description: '`RATE_LIMIT_EXCEEDED`: the key\'s per-minute or per-day allowance is spent; see Retry-After.' }),
    ApiResponse({ status: 500, type: ErrorResponseDto, description: '`AUTH_ERROR`: the key could not be checked in time.' }),
  );
}

/** Opt-in MiCA developer authentication (`Authorization: Bearer <managementToken>`) with the key-management limit. */
export function ManagementTokenAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    UseGuards(ManagementTokenGuard),
    ApiBearerAuth(MANAGEMENT_TOKEN_SECURITY),
    ApiResponse({ status: 401, type: ErrorResponseDto, description: '`UNAUTHORIZED` (no bearer token) or `INVALID_TOKEN`.' }),
    ApiResponse({ status: 429, type: ErrorResponseDto, description: '`RATE_LIMIT_EXCEEDED`: too many failed attempts from this address, or too many management requests.' }),
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
    ApiResponse({ status: 401, type: ErrorResponseDto, description: '`AUTH_REQUIRED` (no key) or `AUTH_FAILED` (malformed, unknown, revoked, expired, paused, or instance archived).' }),
    ApiResponse({ status: 429, type: ErrorResponseDto, description: '`RATE_LIMIT_EXCEEDED`: the key\'s per-minute allowance is spent; see Retry-After.' }),
    ApiResponse({ status: 500, type: ErrorResponseDto, description: '`AUTH_ERROR`: the key could not be checked in time.' }),
  );
}
