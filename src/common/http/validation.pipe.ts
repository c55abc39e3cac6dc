import { ValidationPipe, type ValidationError } from '@nestjs/common';
import type { ValidatorOptions } from 'class-validator';
import { validationError } from '../errors/app-error.js';
import { withNullFieldErrors } from './null-fields.js';
import { fieldErrors } from './validation-messages.js';

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
    // Every failed constraint is reported; fieldErrors picks the one a person checks first.
    stopAtFirstError: false,
    exceptionFactory: (errors) => validationError(fieldErrors(errors)),
  });
}
