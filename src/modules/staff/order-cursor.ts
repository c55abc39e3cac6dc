import { validationError } from '../../common/errors/index.js';
import { MAX_INT } from '../../common/http/index.js';

/** Where a page of the back office's order list (newest first) continues. */
export interface OrderKey {
  createdAt: Date;
  id: number;
}

const PATTERN = /^bo:(\d{1,15}):([1-9]\d{0,9})$/;

/**
 * The list is ordered by (created_at, id) descending, so its cursor carries
 * both: the last order's time (milliseconds, as the app writes it) and id.
 * Opaque to clients, like every cursor of docs/http-api.md.
 */
export const orderCursor = {
  encode: (key: OrderKey): string =>
    Buffer.from(`bo:${key.createdAt.getTime()}:${key.id}`).toString('base64url'),
  decode(cursor: string | undefined): OrderKey | undefined {
    if (cursor === undefined || cursor === '') return undefined;
    const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
    const match = PATTERN.exec(text);
    const id = Number(match?.[2] ?? NaN);
    const time = Number(match?.[1] ?? NaN);
    if (!(id <= MAX_INT) || !Number.isSafeInteger(time)) {
      throw validationError([{ field: 'cursor', message: 'cursor is not valid' }]);
    }
    return { createdAt: new Date(time), id };
  },
};
