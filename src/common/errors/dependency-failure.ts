import { DeadlineExceededError } from './deadline-exceeded.js';
import { ERRORS } from './error-codes.js';

/** What a client is told when one of our own dependencies failed. */
export interface DependencyFailure {
  status: number;
  code: number;
  message: string;
  headers?: Record<string, string>;
}

/** Seconds a client should wait before retrying a request a dependency refused. */
export const DEPENDENCY_RETRY_AFTER_S = 2;

// Connection-level failures of a database or Redis (Node's socket errors and
// mysql2's protocol errors): the dependency cannot be reached, so 503.
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  // InnoDB gave up waiting for a row lock: the database is overloaded, not the request wrong.
  'ER_LOCK_WAIT_TIMEOUT',
]);

// mysql2's pool errors carry no code, only these messages.
const POOL_MESSAGES = new Set(['Queue limit reached.', 'Pool is closed.']);

const UNAVAILABLE: DependencyFailure = {
  status: ERRORS.UNAVAILABLE.status,
  code: ERRORS.UNAVAILABLE.code,
  message: 'a dependency is unavailable, retry later',
  headers: { 'Retry-After': String(DEPENDENCY_RETRY_AFTER_S) },
};

const DEADLOCK: DependencyFailure = {
  status: ERRORS.CONFLICT.status,
  code: ERRORS.CONFLICT.code,
  message: 'conflicting concurrent update, nothing was changed: retry',
};

function codeOf(err: object): unknown {
  return (err as { code?: unknown }).code;
}

/**
 * Whether `err` says a dependency failed rather than our code: 503/50300 with
 * Retry-After when it cannot be reached (or its pool is full), 409 for a
 * deadlock (InnoDB rolled the transaction back, so nothing was written).
 * A spent request budget is a 503 too: the client may retry, and a
 * transaction it cut short was rolled back. TypeORM wraps driver errors
 * (`driverError`); both levels are read.
 */
export function dependencyFailure(err: unknown): DependencyFailure | undefined {
  if (!(err instanceof Error)) return undefined;
  const driver = (err as { driverError?: unknown }).driverError;
  for (const e of driver instanceof Error ? [err, driver] : [err]) {
    if (e instanceof DeadlineExceededError) return UNAVAILABLE;
    const code = codeOf(e);
    if (code === 'ER_LOCK_DEADLOCK') return DEADLOCK;
    if (typeof code === 'string' && UNREACHABLE.has(code)) return UNAVAILABLE;
    if (POOL_MESSAGES.has(e.message)) return UNAVAILABLE;
  }
  return undefined;
}
