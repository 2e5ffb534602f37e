import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { AppException } from '../errors/app.exception';

/**
 * What a handler accepts in its query string, read once from its parameter decorators:
 * - `@Query() dto: SomeDto` (a class): the DTO decides, and the validation pipe refuses unknown names;
 * - `@Query() query: Record<string, unknown>`: the handler checks the names itself (the verify route);
 * - `@Query('name')`: exactly those names;
 * - no `@Query` at all: no query parameter.
 */
type QueryRule = { kind: 'delegated' } | { kind: 'names'; names: ReadonlySet<string> };

export function queryRuleOf(controller: object, handler: string | symbol): QueryRule {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler) ?? {}) as Record<string, { index: number; data?: unknown }>;
  const names = new Set<string>();
  for (const [key, arg] of Object.entries(args)) {
    if ((Number(key.split(':')[0]) as RouteParamtypes) !== RouteParamtypes.QUERY) continue;
    if (typeof arg.data === 'string') names.add(arg.data);
    else if (arg.data === undefined) return { kind: 'delegated' };
  }
  return { kind: 'names', names };
}

export function unknownQueryDetails(query: Record<string, unknown>, allowed: ReadonlySet<string>): Record<string, string[]> | undefined {
  const unknown = Object.keys(query).filter((name) => !allowed.has(name));
  if (unknown.length === 0) return undefined;
  return Object.fromEntries(unknown.map((name) => [name, [`${name} is not a query parameter of this operation`]]));
}

/** Throws the 400 every route answers to a query parameter it does not document. */
export function refuseUnknownQuery(query: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  const details = unknownQueryDetails(query, allowed);
  if (details) throw new AppException('VALIDATION_ERROR', 'The request has query parameters this operation does not take.', details);
}

/**
 * Global: a route that reads no query parameter refuses every one (400 with `details`), rather than
 * answering 200 to `?limit=5` as if it had been honoured. Runs after the guards, so an
 * unauthenticated caller still gets its 401 first.
 */
@Injectable()
export class StrictQueryInterceptor implements NestInterceptor {
  private readonly rules = new WeakMap<object, QueryRule>();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const handler = context.getHandler();
    let rule = this.rules.get(handler);
    if (!rule) {
      rule = queryRuleOf(context.getClass(), handler.name);
      this.rules.set(handler, rule);
    }
    if (rule.kind === 'names') refuseUnknownQuery(context.switchToHttp().getRequest<Request>().query, rule.names);
    return next.handle();
  }
}
