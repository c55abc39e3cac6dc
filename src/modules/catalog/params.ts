import { AppError, validationError } from '../../common/errors/index.js';

/** Largest value of the INTEGER id and stock columns. */
export const MAX_INT = 2_147_483_647;

// The cursor is the last id of the previous page, wrapped so that clients
// treat it as opaque and the encoding can change without breaking them.
const CURSOR = /^p1:([1-9]\d{0,9})$/;

export function encodeCursor(lastId: number): string {
  return Buffer.from(`p1:${lastId}`).toString('base64url');
}

/** The id after which the page starts; 0 for the first page. */
export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const match = CURSOR.exec(text);
  const id = match ? Number(match[1]) : NaN;
  if (!(id <= MAX_INT))
    throw validationError([{ field: 'cursor', message: 'cursor is not valid' }]);
  return id;
}

/** Path ids: digits only, so "abc" or "1.5" is a 400; a number no row can have is a 404. */
export function parseProductId(raw: string): number {
  if (!/^\d{1,20}$/.test(raw)) {
    throw validationError([{ field: 'id', message: 'id must be a positive integer' }]);
  }
  const id = Number(raw);
  if (id < 1 || id > MAX_INT) throw new AppError('NOT_FOUND', 'product not found');
  return id;
}
