import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/http/api-responses';
import { AdminAuthGuard } from './admin-auth.guard';

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
