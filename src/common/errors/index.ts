export { ERRORS, rowForStatus } from './error-codes.js';
export type { ErrorReason, ErrorRow } from './error-codes.js';
export { AppError, validationError } from './app-error.js';
export type { FieldError } from './app-error.js';
export { DeadlineExceededError } from './deadline-exceeded.js';
export { DEPENDENCY_RETRY_AFTER_S } from './dependency-failure.js';
