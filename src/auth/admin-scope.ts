import type { OperatorScope } from '../domain/operator-token.scopes';

/** Reflect metadata key of an admin route's declared scope (written by `@AdminScope`, read by AdminAuthGuard). */
export const ADMIN_SCOPE_METADATA = 'trusset:admin-scope';
/** OpenAPI extension naming an admin operation's scope, so tools (and the scope matrix test) can read it. */
export const ADMIN_SCOPE_EXTENSION = 'x-required-scope';

export interface AdminScopeDeclaration {
  scope: OperatorScope;
  /** Only a token not restricted to instances (or ADMIN_TOKEN) may call it: it reaches beyond any one instance. */
  allInstances: boolean;
}

/** The sentence the OpenAPI description of an admin operation carries about its scope. */
export function scopeSentence({ scope, allInstances }: AdminScopeDeclaration): string {
  return allInstances
    ? `Required scope: \`${scope}\`, on an operator token not restricted to instances (or ADMIN_TOKEN).`
    : `Required scope: \`${scope}\` (or ADMIN_TOKEN).`;
}
