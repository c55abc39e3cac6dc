import {
  ValidationPipe,
  type ArgumentMetadata,
  type PipeTransform,
  type ValidationError,
} from '@nestjs/common';
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
 * An integer from 1 to `max`, as `@IsInt() @Min(1) @Max(max)` accept it: the
 * check of a count or an id in the shapes given to acceptWellFormed.
 */
export function isIntUpTo(value: unknown, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max;
}

/**
 * class-validator's ValidationPipe that also reports every null in the body
 * (null-fields.ts).
 */
class NullRefusingValidationPipe extends ValidationPipe {
  /** Whether transform() validates the value (its first test; no expectedType is set here). */
  validates(metadata: ArgumentMetadata): boolean {
    return metadata.metatype !== undefined && this.toValidate(metadata);
  }

  /** What transform() resolves to for a value it does not validate. */
  passedThrough(value: unknown, metadata: ArgumentMetadata): unknown {
    return this.isTransformEnabled ? this.transformPrimitive(value, metadata) : value;
  }

  protected override async validate(
    object: object,
    options?: ValidatorOptions,
  ): Promise<ValidationError[]> {
    return withNullFieldErrors(object, await super.validate(object, options));
  }
}

/**
 * The app's validation: NullRefusingValidationPipe, answered at once (no
 * promise) for what needs no validator: a value it does not validate (a
 * path id, a header, the signed-in user) and a DTO's well-formed shape
 * (acceptWellFormed). Lean routes await a pipe only when it answers with a
 * promise; the awaits of every argument were about a tenth of a flash
 * admission's allocation (docs/benchmarks.md).
 */
class AppValidationPipe implements PipeTransform {
  constructor(private readonly validation: NullRefusingValidationPipe) {}

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const metatype = metadata.metatype as Dto | undefined;
    if (metatype && shortcuts.get(metatype)?.(value)) return Object.assign(new metatype(), value);
    if (!this.validation.validates(metadata)) return this.validation.passedThrough(value, metadata);
    return this.validation.transform(value, metadata);
  }
}

/**
 * Validates request DTOs (class-validator) and answers 400/40000 with
 * `data.errors: [{ field, message }]`. Unknown properties are rejected so a
 * typo in a client is seen at once instead of being silently ignored; a
 * null is refused too.
 */
export function createValidationPipe(): PipeTransform {
  return new AppValidationPipe(
    new NullRefusingValidationPipe({
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: true,
      // Every failed constraint is reported; fieldErrors picks the one a person checks first.
      stopAtFirstError: false,
      exceptionFactory: (errors) => validationError(fieldErrors(errors)),
    }),
  );
}
