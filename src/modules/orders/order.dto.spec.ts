import { ValidationPipe } from '@nestjs/common';
import { createValidationPipe, MAX_INT } from '../../common/http/index.js';
import { CreateOrderDto, isWellFormedOrder, MAX_LINES, MAX_QUANTITY } from './order.dto.js';

const body = { type: 'body' as const, metatype: CreateOrderDto };

/**
 * The reference: class-validator through Nest's own pipe with the app's
 * options, and no null anywhere in the body (the app's pipe refuses each one,
 * src/common/http/null-fields.ts).
 */
const reference = new ValidationPipe({
  transform: true,
  whitelist: true,
  forbidNonWhitelisted: true,
});
const hasNull = (v: unknown): boolean =>
  v === null || (typeof v === 'object' && Object.values(v as object).some(hasNull));
const validates = async (value: unknown): Promise<boolean> =>
  !(typeof value === 'object' && value !== null && hasNull(value)) &&
  reference.transform(value, body).then(
    () => true,
    () => false,
  );

/** A small random body: mostly well-formed, with one of the ways a body goes wrong now and then. */
function randomBody(rnd: () => number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const number = () =>
    pick([1, 2, 7, 99, 100, 0, -1, 1.5, MAX_INT, MAX_INT + 1, '3', null, true, undefined]);
  const line = () => {
    const l: Record<string, unknown> = {
      productId: rnd() < 0.8 ? 1 + Math.floor(rnd() * 20) : number(),
      quantity: rnd() < 0.8 ? 1 + Math.floor(rnd() * MAX_QUANTITY) : number(),
    };
    if (rnd() < 0.05) l.price = 1;
    if (rnd() < 0.05) delete l.quantity;
    return rnd() < 0.03 ? pick([null, [], 'line', 5]) : l;
  };
  const n = rnd() < 0.9 ? 1 + Math.floor(rnd() * 4) : pick([0, MAX_LINES, MAX_LINES + 1]);
  const b: Record<string, unknown> = { items: Array.from({ length: n }, line) };
  if (rnd() < 0.2) b.addressId = rnd() < 0.7 ? 1 + Math.floor(rnd() * 1000) : number();
  if (rnd() < 0.05) b.items = pick([null, {}, 'items', undefined]);
  if (rnd() < 0.05) b.coupon = 'x';
  return rnd() < 0.02 ? pick([null, [], 'body', 1]) : b;
}

/** A seeded generator (mulberry32), so a failure is reproducible. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("POST /orders' well-formed body", () => {
  it('accepts only what the validators accept, and all of it for bodies without a remark', async () => {
    const rnd = seeded(27);
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      const value = randomBody(rnd);
      const valid = await validates(value);
      const shortcut = isWellFormedOrder(value);
      // ValidateNested passes a line that is an empty array (it validates the
      // array's elements, none); the shortcut leaves such a body to them.
      const arrayLine =
        Array.isArray((value as { items?: unknown } | null)?.items) &&
        (value as { items: unknown[] }).items.some(Array.isArray);
      expect({ value, shortcut }).toEqual({ value, shortcut: valid && !arrayLine });
      if (shortcut) accepted++;
    }
    // Both kinds were drawn often enough for the comparison to mean something.
    expect(accepted).toBeGreaterThan(500);
    expect(accepted).toBeLessThan(1800);
  });

  it('leaves a body with a remark to the validators (content checks)', async () => {
    const withRemark = { items: [{ productId: 1, quantity: 1 }], remark: 'ring twice' };
    expect(isWellFormedOrder(withRemark)).toBe(false);
    expect(await validates(withRemark)).toBe(true);
  });

  it('gives the service what the validators would give it', async () => {
    const value = { addressId: 4, items: [{ quantity: 2, productId: 9 }] };
    const out = createValidationPipe().transform(value, body);
    expect(out).toBeInstanceOf(CreateOrderDto);
    expect(JSON.parse(JSON.stringify(out))).toEqual(
      JSON.parse(JSON.stringify(await reference.transform(value, body))),
    );
  });
});
