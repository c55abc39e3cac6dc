import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import type { ValidatorOptions } from 'class-validator';
import { validationError } from '../errors/app-error.js';
import { withNullFieldErrors } from './null-fields.js';
import { fieldErrors } from './validation-messages.js';

type Dto = new () => object;

const shortcuts = new WeakMap<Function, (value: unknown) => boolean>();

/**
 * Lets a DTO of a hot route skip class-transformer and class-validator for
 * the one shape a comparison can tell is valid: `isWellFormed` must accept
 * only bodies the DTO's validators accept unchanged (the same properties, no
 * others, nothing to transform). Anything it does not accept is validated as
 * usual, so every refusal stays the pipe's.
 */
export function acceptWellFormed<T extends object>(
  dto: new () => T,
  isWellFormed: (value: unknown) => value is T,
): void {
  shortcuts.set(dto, isWellFormed);
}

/**
 * class-validator's ValidationPipe that also reports every null in the body
 * (null-fields.ts), and takes a DTO's well-formed shape as it is (acceptWellFormed).
 */
class NullRefusingValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const metatype = metadata.metatype as Dto | undefined;
    if (metatype && shortcuts.get(metatype)?.(value)) return Object.assign(new metatype(), value);
    return super.transform(value, metadata);
  }

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
