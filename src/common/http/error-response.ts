import { HttpException } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';
import { dependencyFailure } from '../errors/dependency-failure.js';
import { ERRORS, rowForStatus } from '../errors/error-codes.js';

export interface ErrorResponse {
  status: number;
  code: number;
  message: string;
  data: Record<string, unknown> | null;
  headers?: Record<string, string>;
  /** The error was not expected: log it (without stack or SQL). */
  unexpected: boolean;
  /** The client went away mid-request: worth an info line, not an alarm. */
  clientAborted?: boolean;
  /** The database or Redis failed (503/409): a warning naming the driver's code. */
  dependencyFailed?: boolean;
}

/** Node's error for a request stream the client closed before its end. */
function isClientAbort(err: unknown): boolean {
  return (
    err instanceof Error &&
    err.message === 'aborted' &&
    (err as { code?: unknown }).code === 'ECONNRESET'
  );
}

interface FastifyLikeError {
  statusCode: number;
  code: string;
}

function isFastifyError(err: unknown): err is FastifyLikeError & Error {
  return (
    err instanceof Error &&
    typeof (err as Partial<FastifyLikeError>).statusCode === 'number' &&
    typeof (err as Partial<FastifyLikeError>).code === 'string' &&
    (err as unknown as FastifyLikeError).code.startsWith('FST_')
  );
}

// Fastify's own messages name internals; clients get short, stable ones.
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed JSON body',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty JSON body',
  FST_ERR_CTP_BODY_TOO_LARGE: ERRORS.PAYLOAD_TOO_LARGE.message,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ERRORS.UNSUPPORTED_MEDIA_TYPE.message,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid content length',
};

/** Maps anything thrown while handling a request to the envelope's fields. */
export function toErrorResponse(err: unknown): ErrorResponse {
  // Nest wraps Fastify's own 4xx errors (body parsing, size) in an HttpException.
  if (err instanceof HttpException && isFastifyError(err.cause)) {
    return toErrorResponse(err.cause);
  }
  if (err instanceof AppError) {
    const row = ERRORS[err.reason];
    return {
      status: row.status,
      code: row.code,
      message: err.message,
      data: err.data ?? null,
      headers: err.headers,
      unexpected: row.status >= 500 && err.reason === 'INTERNAL',
    };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const row = rowForStatus(status);
    const body = err.getResponse();
    // Terminus reports which dependency failed; that detail is safe and useful.
    const data =
      typeof body === 'object' && body !== null && 'details' in body
        ? (body as Record<string, unknown>)
        : null;
    return {
      status,
      code: row.code,
      message: status < 500 ? err.message : row.message,
      data,
      unexpected: status >= 500 && status !== 503,
    };
  }
  if (isFastifyError(err) && err.statusCode < 500) {
    const row = rowForStatus(err.statusCode);
    return {
      status: err.statusCode,
      code: row.code,
      message: FASTIFY_MESSAGES[err.code] ?? row.message,
      data: null,
      unexpected: false,
    };
  }
  if (isClientAbort(err)) {
    return {
      status: 400,
      code: ERRORS.VALIDATION_FAILED.code,
      message: 'request aborted',
      data: null,
      unexpected: false,
      clientAborted: true,
    };
  }
  // After the abort check: a client's reset is an ECONNRESET too.
  const dependency = dependencyFailure(err);
  if (dependency) {
    return { ...dependency, data: null, unexpected: false, dependencyFailed: true };
  }
  return {
    status: ERRORS.INTERNAL.status,
    code: ERRORS.INTERNAL.code,
    message: ERRORS.INTERNAL.message,
    data: null,
    unexpected: true,
  };
}

/**
 * What may be logged about an unexpected error: its type and a message, never
 * a stack trace or SQL (database errors carry the query and its parameters).
 */
export function describeForLog(err: unknown): { type: string; message?: string; code?: string } {
  if (!(err instanceof Error)) return { type: typeof err };
  const code = (err as { code?: unknown }).code;
  const isDatabaseError = 'query' in err || 'sql' in err || 'sqlMessage' in err;
  return {
    type: err.name,
    code: typeof code === 'string' ? code : undefined,
    message: isDatabaseError ? undefined : err.message,
  };
}
