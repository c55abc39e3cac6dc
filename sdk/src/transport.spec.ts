import { newIdempotencyKey } from './idempotency.js';
import { ApiError, NetworkError } from './errors.js';
import { isRetryable, isTransient } from './transport.js';

describe('what the SDK may send twice', () => {
  it('retries GETs, writes with an Idempotency-Key and repeatable calls, nothing else', () => {
    expect(isRetryable({ method: 'GET', path: '/orders' })).toBe(true);
    expect(isRetryable({ method: 'POST', path: '/orders', idempotencyKey: 'k-12345678' })).toBe(
      true,
    );
    expect(isRetryable({ method: 'POST', path: '/auth/refresh', repeatable: true })).toBe(true);
    expect(isRetryable({ method: 'POST', path: '/orders/1/cancel' })).toBe(false);
    expect(isRetryable({ method: 'PUT', path: '/users/me' })).toBe(false);
  });

  it('makes Idempotency-Keys the backend accepts (8-64 of [A-Za-z0-9._:-]), a new one each time', () => {
    const keys = Array.from({ length: 1000 }, newIdempotencyKey);
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9._:-]{8,64}$/);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('which failures are worth another attempt', () => {
  const answer = (status: number, code: number) => new ApiError(status, { code, message: 'x' });

  it('retries a lost answer, 429 and the 5xx of a briefly unwell backend', () => {
    expect(isTransient(new NetworkError('request:fail'))).toBe(true);
    expect(isTransient(answer(429, 42900))).toBe(true);
    expect(isTransient(answer(503, 50300))).toBe(true);
    expect(isTransient(answer(502, 50200))).toBe(true);
  });

  it('does not retry a feature an operator switched off (503/50301), nor a 4xx', () => {
    expect(isTransient(answer(503, 50301))).toBe(false);
    expect(isTransient(answer(409, 40900))).toBe(false);
    expect(isTransient(answer(400, 40000))).toBe(false);
  });
});
