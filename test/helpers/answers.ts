import type { TestApp } from './app.js';
import type { LoggedIn } from './auth.js';

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/** The Authorization header of a logged-in user, for `.set(...bearer(u))`. */
export function bearer(u: LoggedIn): [string, string] {
  return ['Authorization', `Bearer ${u.accessToken}`];
}

/** A dependency could not answer: 503/50300 in the envelope, with Retry-After. */
export function expect503(res: Answer): void {
  expect(res.status).toBe(503);
  expect(res.body).toMatchObject({
    code: 50300,
    data: null,
    requestId: res.headers['x-request-id'],
  });
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
}

/** Creates `product` through the admin API and returns its id. */
export async function createProduct(
  t: TestApp,
  admin: LoggedIn,
  product: Record<string, unknown>,
): Promise<number> {
  const res = await t.http
    .post('/api/v1/admin/products')
    .set(...bearer(admin))
    .send(product);
  expect(res.status).toBe(201);
  return res.body.data.id as number;
}
