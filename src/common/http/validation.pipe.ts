import { ValidationPipe, type ValidationError } from '@nestjs/common';
import type { ValidatorOptions } from 'class-validator';
import { validationError, type FieldError } from '../errors/app-error.js';
import { withNullFieldErrors } from './null-fields.js';

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

/** class-validator's ValidationPipe that also reports every null in the body (null-fields.ts). */
class NullRefusingValidationPipe extends ValidationPipe {
  protected override async validate(
    object: object,
    options?: ValidatorOptions,
  ): Promise<ValidationError[]> {
    return withNullFieldErrors(object, await super.validate(object, options));
  }
}

/**
 * Validates request DTOs (class-validator) and answers 400/40000 with
 * `data.errors: [{ field, message }]`. Unknown properties are rejected so a
 * typo in a client is seen at once instead of being silently ignored; a
 * null is refused too.
 */
export function createValidationPipe(): ValidationPipe {
  return new NullRefusingValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    stopAtFirstError: true,
    exceptionFactory: (errors) => validationError(flatten(errors)),
  });
}
