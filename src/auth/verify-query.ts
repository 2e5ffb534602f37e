import type { ErrorDetails } from '../common/errors/app.exception';

/**
 * The one query parameter of the verify route, checked by hand: this route runs on every request of
 * the platform, and a class-validator DTO costs more here than the key check itself. An empty
 * `service=` is what a gateway sends when its variable did not expand: refused (SPEC §6), never read
 * as "key only". Answers the per-field problems, or undefined; the key check decides first (a bad
 * key is 401 whatever its query), so this is handed to InstanceAuthGuard.decide rather than thrown.
 */
export function verifyQueryProblem(query: Record<string, unknown>): ErrorDetails | undefined {
  let details: Record<string, string[]> | undefined;
  for (const [name, value] of Object.entries(query)) {
    if (name !== 'service') (details ??= {})[name] = [`${name} is not a query parameter of this operation`];
    else if (typeof value !== 'string') (details ??= {}).service = ['service must be a string'];
    else if (value === '') (details ??= {}).service = ['service must not be empty (omit it to check the key only)'];
  }
  return details;
}
