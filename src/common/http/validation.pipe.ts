import { ValidationPipe } from '@nestjs/common';
import { validationError } from '../errors/app-error.js';
import { fieldErrors } from './validation-messages.js';

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
    // Every failed constraint is reported; fieldErrors picks the one a person checks first.
    stopAtFirstError: false,
    exceptionFactory: (errors) => validationError(fieldErrors(errors)),
  });
}
