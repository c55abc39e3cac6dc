import { createHash } from 'node:crypto';
import { AppError, validationError } from '../../common/errors/index.js';

/** Largest value of the INTEGER id, price and total columns. */
export const MAX_INT = 2_147_483_647;

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
// UUIDs, ULIDs and the like; nothing that needs escaping in logs or keys.
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,64}$/;

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
): string {
  const canonical = JSON.stringify([items.map((i) => [i.productId, i.quantity]), remark ?? null]);
  return createHash('sha256').update(canonical).digest('hex');
}

// The cursor is the id of the last order of the previous page (pages go
// newest first, by id), wrapped so that clients treat it as opaque.
const CURSOR = /^o1:([1-9]\d{0,9})$/;

export function encodeCursor(lastId: number): string {
  return Buffer.from(`o1:${lastId}`).toString('base64url');
}

/** The id below which the page starts; undefined for the first page. */
export function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const match = CURSOR.exec(text);
  const id = match ? Number(match[1]) : NaN;
  if (!(id <= MAX_INT))
    throw validationError([{ field: 'cursor', message: 'cursor is not valid' }]);
  return id;
}

/** Path ids: digits only, so "abc" is a 400; a number no row can have is a 404. */
export function parseOrderId(raw: string): number {
  if (!/^\d{1,20}$/.test(raw)) {
    throw validationError([{ field: 'id', message: 'id must be a positive integer' }]);
  }
  const id = Number(raw);
  if (id < 1 || id > MAX_INT) throw new AppError('NOT_FOUND', 'order not found');
  return id;
}
