import type { OpenAPIObject } from '@nestjs/swagger';
import type {
  HeaderObject,
  OperationObject,
  ReferenceObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ERROR_CODES, ErrorCode } from '../errors/error-codes';

/**
 * The rules every operation follows, applied once to the generated document so each route (and
 * every route a later module adds) is described the same way without repeating decorators. What is
 * route-specific (its success schema, its error codes, its own headers) stays on the route's
 * decorators; docs/api-conventions.md lists what is added here.
 */

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;
const ERROR_REF = '#/components/schemas/ErrorResponseDto';

/** Response headers, declared once under components.headers. */
export const RESPONSE_HEADERS: Record<string, HeaderObject> = {
  'X-Request-Id': {
    description:
      "The request id: the caller's when it sent 8–128 characters of `[A-Za-z0-9._:-]`, else a new UUID. Also in `metadata.requestId`.",
    schema: { type: 'string' },
  },
  'Retry-After': { description: 'Seconds until the limit that refused the request resets.', schema: { type: 'integer', minimum: 1 } },
  'X-RateLimit-Limit': { description: 'Requests allowed in the current one-minute window.', schema: { type: 'integer', minimum: 0 } },
  'X-RateLimit-Remaining': { description: 'Requests left in the current window.', schema: { type: 'integer', minimum: 0 } },
  'X-RateLimit-Reset': { description: 'Seconds until the current window ends.', schema: { type: 'integer', minimum: 0 } },
  'X-RateLimit-Limit-Minute': { description: 'MiCA key: requests allowed per minute.', schema: { type: 'integer', minimum: 0 } },
  'X-RateLimit-Remaining-Minute': { description: 'MiCA key: requests left this minute.', schema: { type: 'integer', minimum: 0 } },
  'X-RateLimit-Reset-Minute': { description: 'MiCA key: seconds until the minute window ends.', schema: { type: 'integer', minimum: 0 } },
  'X-RateLimit-Limit-Day': { description: 'MiCA key: requests allowed per UTC day.', schema: { type: 'integer', minimum: 0 } },
  'X-RateLimit-Remaining-Day': { description: 'MiCA key: requests left today (UTC).', schema: { type: 'integer', minimum: 0 } },
  'X-RateLimit-Reset-Day': { description: 'MiCA key: seconds until the UTC day ends.', schema: { type: 'integer', minimum: 0 } },
  'WWW-Authenticate': {
    description: 'The authentication scheme of the route (`Bearer realm="trusset"` or `ApiKey realm="trusset", header="X-API-Key"`).',
    schema: { type: 'string' },
  },
  'X-Trusset-Instance-Ref': {
    description: 'The `instanceRef` of the verified key, for a gateway to forward upstream.',
    schema: { type: 'string', pattern: '^[A-Za-z0-9]{8}$' },
  },
  'X-Trusset-Key-Id': {
    description: 'The id of the verified key, for a gateway to forward upstream.',
    schema: { type: 'string', format: 'uuid' },
  },
  'X-Total-Count': { description: 'Records matching the query, over all pages.', schema: { type: 'integer', minimum: 0 } },
  'X-Data-Source': {
    description: 'Where the answer came from: `cache`, `database` or `empty`.',
    schema: { type: 'string', enum: ['cache', 'database', 'empty'] },
  },
};

/** Rate-limit headers by security scheme of the operation (what its guard sets, on every answer past the key check). */
const LIMIT_HEADERS: Record<string, string[]> = {
  'instance-key': ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
  'mica-key': [
    'X-RateLimit-Limit-Minute',
    'X-RateLimit-Remaining-Minute',
    'X-RateLimit-Reset-Minute',
    'X-RateLimit-Limit-Day',
    'X-RateLimit-Remaining-Day',
    'X-RateLimit-Reset-Day',
  ],
};

/** Operations that need no dependency to answer: no 503 for them. */
const NO_DEPENDENCY = new Set(['get /api/health/live', 'get /api/metrics']);

const TAG_DESCRIPTIONS: Record<string, string> = {
  operations: 'Liveness, readiness and Prometheus metrics. Public.',
  verification: "The key check the platform's APIs and gateways ask before admitting a request.",
  'instances (admin)': 'Instances: isolated client deployments (admin token).',
  'instance keys (admin)': 'The API keys of any instance (admin token).',
  'instance keys (self-service)': "An instance's own keys, managed with one of them (`X-API-Key`).",
  'MiCA developer accounts': "Free self-registration and the account's keys (management token).",
  'MiCA register data': "ESMA's interim MiCA register (`X-API-Key: trusset_mica_…`).",
  'MiCA register (admin)': 'Register imports (admin token).',
};

function ref(name: string): ReferenceObject {
  return { $ref: `#/components/headers/${name}` };
}

function isErrorResponse(response: ResponseObject): boolean {
  const schema = response.content?.['application/json']?.schema as ReferenceObject | undefined;
  return schema?.$ref === ERROR_REF;
}

function errorResponse(description: string): ResponseObject {
  return { description, content: { 'application/json': { schema: { $ref: ERROR_REF } } } };
}

/** The codes a response's description names (`CODE`), of the response's status, else the status's usual code. */
function codesOf(status: number, description: string): ErrorCode[] {
  const named = [...description.matchAll(/`([A-Z_]+)`/g)]
    .map((m) => m[1])
    .filter((c): c is ErrorCode => c in ERROR_CODES && ERROR_CODES[c as ErrorCode].status === status);
  if (named.length) return [...new Set(named)];
  const fallback = (Object.keys(ERROR_CODES) as ErrorCode[]).find((c) => ERROR_CODES[c].status === status);
  return fallback ? [fallback] : [];
}

function exampleOf(code: ErrorCode): Record<string, unknown> {
  const error: Record<string, unknown> = { code, message: ERROR_CODES[code].message };
  if (code === 'VALIDATION_ERROR') error.details = { name: ['name is required'] };
  return { success: false, error, metadata: { requestId: '3f2b8c1e-9a4d-4c6e-8f0a-1b2c3d4e5f60', timestamp: '2026-11-27T10:00:00.000Z' } };
}

function securityScheme(operation: OperationObject): string | undefined {
  return Object.keys(operation.security?.[0] ?? {})[0];
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** `InstancesController.create` → `instancesCreate`: stable, unique, and reads well in a generated client. */
export function operationId(controllerKey: string, methodKey: string): string {
  return `${lowerFirst(controllerKey.replace(/Controller$/, ''))}${methodKey.charAt(0).toUpperCase()}${methodKey.slice(1)}`;
}

/** Extension a controller sets (`@ApiExtension(RESPONSE_HEADERS_EXTENSION, [...names])`) for headers its interceptors add to 2xx answers. */
export const RESPONSE_HEADERS_EXTENSION = 'x-response-headers';

export function applyApiConventions(
  document: OpenAPIObject,
  fixedHeaders: Map<string, Array<{ name: string; value: string }>> = new Map(),
): OpenAPIObject {
  document.components ??= {};
  document.components.headers = { ...(document.components.headers ?? {}), ...RESPONSE_HEADERS };
  // Opaque random tokens, not JWTs (Nest's bearer default says JWT).
  for (const scheme of Object.values(document.components.securitySchemes ?? {})) delete (scheme as { bearerFormat?: string }).bearerFormat;

  const tags = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      for (const tag of operation.tags ?? []) tags.add(tag);
      operation.description ??= operation.summary;
      // Public routes say so, rather than inheriting a global requirement a reader might assume.
      operation.security ??= [];
      const responses = operation.responses as Record<string, ResponseObject>;
      // Every route refuses query parameters it does not document.
      responses['400'] ??= errorResponse('`VALIDATION_ERROR`: a query parameter this operation does not take, or an invalid one.');
      responses['500'] ??= errorResponse('`INTERNAL_ERROR`: an unexpected failure (never a stack trace).');
      if (!NO_DEPENDENCY.has(`${method} ${path}`))
        responses['503'] ??= errorResponse('`SERVICE_UNAVAILABLE`: the database (or another dependency) did not answer in time.');
      requestBodyRequiredOnlyWhenNeeded(operation, document);
      const limits = LIMIT_HEADERS[securityScheme(operation) ?? ''] ?? [];
      const extra = ((operation as unknown as Record<string, unknown>)[RESPONSE_HEADERS_EXTENSION] as string[] | undefined) ?? [];
      delete (operation as unknown as Record<string, unknown>)[RESPONSE_HEADERS_EXTENSION];
      const fixed = fixedHeaders.get(`${method} ${path}`) ?? [];
      for (const [statusText, response] of Object.entries(responses)) {
        const status = Number(statusText);
        response.headers = { ...(response.headers ?? {}), 'X-Request-Id': ref('X-Request-Id') };
        if (status === 429) {
          response.headers['Retry-After'] = ref('Retry-After');
          for (const h of limits.length ? limits : LIMIT_HEADERS['instance-key']) response.headers[h] = ref(h);
        } else if (status < 300 || status === 403 || status === 404 || status === 409) {
          for (const h of limits) response.headers[h] = ref(h);
        }
        if (status === 401) response.headers['WWW-Authenticate'] = ref('WWW-Authenticate');
        if (status >= 200 && status < 300) {
          for (const h of extra) response.headers[h] = ref(h);
          for (const { name, value } of fixed) {
            response.headers[name] = { description: `Always \`${value}\`.`, schema: { type: 'string', enum: [value] } };
          }
        }
        if (isErrorResponse(response)) {
          const media = response.content!['application/json'];
          media.examples = Object.fromEntries(
            codesOf(status, response.description).map((code) => [code, { summary: code, value: exampleOf(code) }]),
          );
        }
      }
    }
  }
  document.tags = [...tags].sort().map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name }));
  return document;
}

/** Nest marks every `@Body()` required; a body whose fields are all optional (rotate, create MiCA key) is not. */
function requestBodyRequiredOnlyWhenNeeded(operation: OperationObject, document: OpenAPIObject): void {
  const body = operation.requestBody as
    { required?: boolean; content?: Record<string, { schema?: SchemaObject | ReferenceObject }> } | undefined;
  const schema = body?.content?.['application/json']?.schema;
  if (!body || !schema) return;
  const resolved = '$ref' in schema ? (document.components?.schemas?.[schema.$ref.split('/').pop()!] as SchemaObject | undefined) : schema;
  if (resolved && !resolved.required?.length) body.required = false;
}
