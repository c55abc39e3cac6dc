import { newIdempotencyKey } from './idempotency.js';
import { isRetryable } from './transport.js';

describe('what the SDK may send twice', () => {
  it('retries GETs and writes with an Idempotency-Key, nothing else', () => {
    expect(isRetryable({ method: 'GET', path: '/orders' })).toBe(true);
    expect(isRetryable({ method: 'POST', path: '/orders', idempotencyKey: 'k-12345678' })).toBe(
      true,
    );
    expect(isRetryable({ method: 'POST', path: '/orders/1/cancel' })).toBe(false);
    expect(isRetryable({ method: 'PATCH', path: '/users/me' })).toBe(false);
  });

  it('makes Idempotency-Keys the backend accepts (8-64 of [A-Za-z0-9._:-]), a new one each time', () => {
    const keys = Array.from({ length: 1000 }, newIdempotencyKey);
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9._:-]{8,64}$/);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
