import { Transform } from 'class-transformer';
import { Matches } from 'class-validator';

/** Trims surrounding white space of a string field before it is validated. */
export const Trim = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value), { toClassOnly: true });

/** No control characters (CR, LF, NUL…): a name can never forge a log or audit line. */
export const NoControlChars = () => Matches(/^[^\u0000-\u001f\u007f]*$/, { message: '$property must not contain control characters' });

/** `%`, `_` and `\` taken literally inside a LIKE pattern. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
