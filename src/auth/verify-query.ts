import { AppException } from '../common/errors/app.exception';

/**
 * The one query parameter of the verify route, checked by hand: this route runs on every request of
 * the platform, and a class-validator DTO costs more here than the key check itself. An empty
 * `service=` is what a gateway sends when its variable did not expand: refused (SPEC §6), never read
 * as "key only".
 */
export function checkVerifyQuery(query: Record<string, unknown>): void {
  const details: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(query)) {
    if (name !== 'service') details[name] = ['is not allowed'];
    else if (typeof value !== 'string') details.service = ['service must be a string'];
    else if (value === '') details.service = ['service must not be empty (omit it to check the key only)'];
  }
  if (Object.keys(details).length > 0) throw new AppException('VALIDATION_ERROR', undefined, details);
}
