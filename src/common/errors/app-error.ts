import { ERRORS, type ErrorReason } from './error-codes.js';

/**
 * A domain error: services throw it with a reason from the error table and
 * never build HTTP responses themselves. `data` is returned to the client, so
 * it must never hold secrets.
 */
export class AppError extends Error {
  override name = 'AppError';

  constructor(
    readonly reason: ErrorReason,
    message: string = ERRORS[reason].message,
    readonly data?: Record<string, unknown>,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export interface FieldError {
  field: string;
  message: string;
}

export function validationError(errors: FieldError[]): AppError {
  return new AppError('VALIDATION_FAILED', 'validation failed', { errors });
}
