import { reasonOf } from '../../../test/helpers/reason-of.js';
import { parseIdempotencyKey, requestHash } from './params.js';

describe('order params', () => {
  it('accepts UUID-like idempotency keys of 8-64 characters', () => {
    expect(parseIdempotencyKey('8f14e45f-ceea-467f-a0e6-0f4c7e2a5a3b')).toBe(
      '8f14e45f-ceea-467f-a0e6-0f4c7e2a5a3b',
    );
    expect(parseIdempotencyKey('a'.repeat(64))).toHaveLength(64);
  });

  it.each([undefined, '', 'seven77', 'a'.repeat(65), 'has space!', ['aaaaaaaa', 'bbbbbbbb']])(
    'rejects the idempotency key %j',
    (raw) => expect(reasonOf(() => parseIdempotencyKey(raw))).toBe('VALIDATION_FAILED'),
  );

  it('hashes the same request alike and any change differently', () => {
    const items = [
      { productId: 1, quantity: 2 },
      { productId: 3, quantity: 1 },
    ];
    const base = requestHash(items, undefined);
    expect(
      requestHash(
        items.map((i) => ({ ...i })),
        undefined,
      ),
    ).toBe(base);
    expect(requestHash(items, 'note')).not.toBe(base);
    expect(requestHash([items[1], items[0]], undefined)).not.toBe(base);
    expect(requestHash([{ productId: 1, quantity: 3 }, items[1]], undefined)).not.toBe(base);
  });
});
