import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { validationError, type FieldError } from '../errors/app-error.js';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    // Array elements read as `items[0].productId`, the way clients index them.
    const field = !parent
      ? e.property
      : /^\d+$/.test(e.property)
        ? `${parent}[${e.property}]`
        : `${parent}.${e.property}`;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * Validates request DTOs (class-validator) and answers 400/40000 with
 * `data.errors: [{ field, message }]`. Unknown properties are rejected so a
 * typo in a client is seen at once instead of being silently ignored.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => validationError(flatten(errors)),
  });
}
