import { createHash } from 'node:crypto';
import { validationError } from '../../common/errors/index.js';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
// UUIDs, ULIDs and the like; nothing that needs escaping in logs or keys.
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,64}$/;

/** The Idempotency-Key header of POST /orders; required. */
export function parseIdempotencyKey(raw: string | string[] | undefined): string {
  if (raw === undefined || raw === '') {
    throw validationError([{ field: IDEMPOTENCY_HEADER, message: 'header is required' }]);
  }
  if (typeof raw !== 'string' || !IDEMPOTENCY_KEY.test(raw)) {
    throw validationError([
      { field: IDEMPOTENCY_HEADER, message: 'must be 8-64 characters of [A-Za-z0-9._:-]' },
    ]);
  }
  return raw;
}

/**
 * Fingerprint of an order request, stored with its idempotency key: a retry
 * has the same one, a reused key with another body does not. Lines keep the
 * client's order, so a reordered body counts as a different request.
 */
export function requestHash(
  items: readonly { productId: number; quantity: number }[],
  remark: string | undefined,
  addressId?: number,
): string {
  const parts: unknown[] = [items.map((i) => [i.productId, i.quantity]), remark ?? null];
  // Appended only when given, so that keys stored before addresses existed
  // still recognise their retries.
  if (addressId !== undefined) parts.push(addressId);
  const canonical = JSON.stringify(parts);
  return createHash('sha256').update(canonical).digest('hex');
}
