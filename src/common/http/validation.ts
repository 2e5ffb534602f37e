import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppException, ErrorDetails } from '../errors/app.exception';

/** Constraints that say what a value must be; when one fails, the range and pattern checks of that value are noise. */
const TYPE_CONSTRAINTS = new Set([
  'isString',
  'isInt',
  'isNumber',
  'isBoolean',
  'isArray',
  'isObject',
  'isIso8601',
  'isDateString',
  'isUuid',
  'isEmail',
  'isIn',
  'isEnum',
  'nestedValidation',
]);

/**
 * One readable message per problem, naming the field: a missing field is "is required", a value of
 * the wrong type gets only its type message (not three range messages beside it), and
 * class-validator's "All services's elements must be unique" reads as a sentence.
 */
function messagesOf(path: string, error: ValidationError): string[] {
  const constraints = error.constraints ?? {};
  const keys = Object.keys(constraints);
  if (keys.includes('whitelistValidation')) return [`${path} is not allowed`];
  if (error.value === undefined || error.value === null) {
    if (keys.some((k) => k !== 'isDefined' || constraints[k])) return [`${path} is required`];
  }
  const typed = keys.filter((k) => TYPE_CONSTRAINTS.has(k));
  const chosen = typed.length ? typed.slice(0, 1) : keys;
  return chosen.map((k) => (k === 'arrayUnique' ? `${path} must not contain the same value twice` : constraints[k]));
}

function collect(errors: ValidationError[], prefix: string, out: ErrorDetails): ErrorDetails {
  for (const error of errors) {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) out[path] = messagesOf(path, error);
    if (error.children?.length) collect(error.children, path, out);
  }
  return out;
}

export function validationDetails(errors: ValidationError[]): ErrorDetails {
  return collect(errors, '', {});
}

/** Unknown fields are refused rather than dropped, so a typo never silently does nothing. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    // The value is read only to tell a missing field from a wrong one; it never reaches the answer.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => new AppException('VALIDATION_ERROR', 'The request is invalid.', validationDetails(errors)),
  });
}
