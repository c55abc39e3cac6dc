import type { ErrorCode, FieldError } from './api.js';

/** Named business codes of the envelope (the backend's error table) the SDK reacts to. */
export const Codes = {
  VALIDATION_FAILED: 40000,
  UNAUTHORIZED: 40100,
  TOKEN_EXPIRED: 40101,
  SESSION_ENDED: 40102,
  CONFLICT: 40900,
  FLASH_SOLD_OUT: 40910,
  FLASH_LIMIT_REACHED: 40911,
  FLASH_NOT_LIVE: 40912,
  ADDRESS_REQUIRED: 40920,
  AFTER_SALES_NOT_ALLOWED: 40921,
  THROTTLED: 42900,
} as const satisfies Record<string, ErrorCode>;

/** An error answer of the backend: its envelope's code, message and requestId, and the HTTP status. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly requestId: string | undefined;
  /** `data` of the envelope: `{ errors: [{ field, message }] }` on a validation error. */
  readonly data: unknown;

  constructor(
    status: number,
    envelope: { code: number; message?: string; requestId?: string; data?: unknown },
  ) {
    super(envelope.message ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = envelope.code as ErrorCode;
    this.requestId = envelope.requestId;
    this.data = envelope.data ?? null;
  }

  /** The fields a validation error (40000) names. */
  get fieldErrors(): FieldError[] {
    const errors = (this.data as { errors?: unknown } | null)?.errors;
    return Array.isArray(errors) ? (errors as FieldError[]) : [];
  }
}

/** No answer came back (no network, a timeout, a lost response); the request may or may not have run. */
export class NetworkError extends Error {
  constructor(readonly errMsg: string) {
    super(errMsg);
    this.name = 'NetworkError';
  }
}

/** A flash-sale ticket still queued when the SDK stopped polling (the order may still come). */
export class TicketTimeoutError extends Error {
  constructor(readonly ticket: string) {
    super(`ticket ${ticket} still queued`);
    this.name = 'TicketTimeoutError';
  }
}

export const isApiError = (err: unknown, code?: ErrorCode): err is ApiError =>
  err instanceof ApiError && (code === undefined || err.code === code);

/** A flash-sale ticket that ended `failed`: its order could not be written (its unit went back on sale). */
export class TicketFailedError extends Error {
  constructor(
    readonly ticket: string,
    readonly reason: string | null,
  ) {
    super(`ticket ${ticket} failed${reason ? `: ${reason}` : ''}`);
    this.name = 'TicketFailedError';
  }
}
