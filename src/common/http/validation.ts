import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppException, ErrorDetails } from '../errors/app.exception';

function collect(errors: ValidationError[], prefix: string, out: ErrorDetails): ErrorDetails {
  for (const error of errors) {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) {
      // class-validator reports a forbidden field as "property X should not exist".
      out[path] = Object.values(error.constraints).map((m) => (m.includes('should not exist') ? 'is not allowed' : m));
    }
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
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new AppException('VALIDATION_ERROR', 'The request is invalid.', validationDetails(errors)),
  });
}
