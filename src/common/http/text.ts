import { Transform } from 'class-transformer';
import { Matches, ValidateBy, ValidationOptions } from 'class-validator';

/** Trims surrounding white space of a string field before it is validated. */
export const Trim = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value), { toClassOnly: true });

/**
 * Characters no name may hold: C0 and C1 controls and DEL (a name could forge a log or audit line),
 * line and paragraph separators (the same, for readers that honour them), bidi controls (a name that
 * displays as another in dashboards and logs), and lone surrogates (not text at all: no valid UTF-8).
 */
export const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|\p{Cs}/u;

/** No control, separator, bidi or unpaired surrogate characters (see UNSAFE_TEXT). */
export const NoControlChars = () =>
  ValidateBy({
    name: 'noControlChars',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && !UNSAFE_TEXT.test(value),
      defaultMessage: () => '$property must not contain control, separator, bidi or unpaired surrogate characters',
    },
  });

/**
 * A length counted in code points, as PostgreSQL counts a varchar(n). class-validator's Length counts
 * an emoji with its variation selector as one, which let `❤️` × 100 through to a varchar(100) and a 500.
 */
export const CodePointLength = (min: number, max: number, options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'codePointLength',
      constraints: [min, max],
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          const n = [...value].length;
          return n >= min && n <= max;
        },
        defaultMessage: () => `$property must be ${min} to ${max} characters long`,
      },
    },
    options,
  );

/** An ISO-8601 time must say which time it is: `Z` or an offset, never the server's local time. */
export const WithUtcOffset = () =>
  Matches(/T.*(Z|[+-]\d{2}(:?\d{2})?)$/i, { message: '$property must include a UTC offset (Z or ±hh:mm)' });

/** `%`, `_` and `\` taken literally inside a LIKE pattern. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
