import { AppError } from '../../src/common/errors/index.js';
import type { ErrorReason } from '../../src/common/errors/index.js';

/** The reason of the AppError `fn` throws, or 'none'; for specs of validators. */
export function reasonOf(fn: () => unknown): ErrorReason | 'none' {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err.reason;
    throw err;
  }
  return 'none';
}
