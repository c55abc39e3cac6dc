export { ERRORS, rowForStatus } from './error-codes.js';
export type { ErrorReason, ErrorRow } from './error-codes.js';
export { AppError, validationError } from './app-error.js';
export type { FieldError } from './app-error.js';
export { DeadlineExceededError } from './deadline-exceeded.js';
