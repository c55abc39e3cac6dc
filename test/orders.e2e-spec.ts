import { randomBytes } from 'node:crypto';
import type { Test } from 'supertest';
import type { TestDatabase } from './helpers/database.js';
import { type TestApp } from './helpers/app.js';
import { useStack } from './helpers/stack.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import type { FakeWechat } from './helpers/fake-wechat.js';

const ADMIN_OPENID = 'orders-admin';

interface Line {
  productId: number;
  quantity: number;
}

describe('Orders on two app replicas sharing one database and one Redis', () => {
  const stack = useStack({
    apps: 2,
    env: {
      LOG_LEVEL: 'warn',
      ADMIN_OPENIDS: ADMIN_OPENID,
      // The 200-order race queues for connections; a small pool shows it copes.
      DATABASE_POOL_SIZE: '8',
    },
  });
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let wx: FakeWechat;
  let adminToken = '';
  let alice: LoggedIn;
  let bob: LoggedIn;

  beforeAll(async () => {
    ({ db, wx } = stack);
    [a, b] = stack.apps;
    adminToken = (await loginAs(a, wx, { admin: true })).accessToken;
    alice = await loginAs(a, wx);
    bob = await loginAs(b, wx);
  });

  const as = (user: LoggedIn, req: Test): Test =>
    req.set('Authorization', `Bearer ${user.accessToken}`);
  const newKey = () => `k-${randomBytes(8).toString('hex')}`;
  const place = (
    user: LoggedIn,
    body: unknown,
    key: string | null = newKey(),
    app: TestApp = a,
  ): Test => {
    const req = as(user, app.http.post('/api/v1/orders'));
    return (key === null ? req : req.set('Idempotency-Key', key)).send(body as object);
  };
  const newProduct = async (stock: number, priceCents = 1000, name = 'Oolong') => {
    const res = await a.http
      .post('/api/v1/admin/products')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ name, priceCents, stock });
    expect(res.status).toBe(201);
    return res.body.data.id as number;
  };
  const stockOf = async (id: number) =>
    Number((await db.dataSource.query('SELECT stock FROM products WHERE id = ?', [id]))[0].stock);
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await db.dataSource.query(sql, params))[0].n);
  const rowCounts = async () => ({
    orders: await count('SELECT COUNT(*) AS n FROM orders'),
    items: await count('SELECT COUNT(*) AS n FROM order_items'),
    events: await count('SELECT COUNT(*) AS n FROM outbox'),
  });

  describe('placing an order', () => {
    it('answers 201 with the order, snapshots name and price, and takes the stock', async () => {
      const tea = await newProduct(10, 1250, 'Longjing');
      const cup = await newProduct(3, 800, 'Cup');
      const lines: Line[] = [
        { productId: tea, quantity: 2 },
        { productId: cup, quantity: 3 },
      ];
      const res = await place(alice, { items: lines, remark: 'no sugar' });
      expect(res.status).toBe(201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(res.body.code).toBe(0);
      expect(res.body.data).toEqual({
        id: expect.any(Number),
        status: 'pending',
        totalCents: 2 * 1250 + 3 * 800,
        remark: 'no sugar',
        items: [
          {
            productId: tea,
            name: 'Longjing',
            unitPriceCents: 1250,
            quantity: 2,
            subtotalCents: 2500,
          },
          { productId: cup, name: 'Cup', unitPriceCents: 800, quantity: 3, subtotalCents: 2400 },
        ],
        address: null,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        updatedAt: expect.any(String),
        payBefore: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
        cancelReason: null,
        refundedCents: 0,
      });
      // payBefore = placed at + ORDER_PAYMENT_TIMEOUT_S (900 by default).
      expect(Date.parse(res.body.data.payBefore) - Date.parse(res.body.data.createdAt)).toBe(
        900_000,
      );
      expect(await stockOf(tea)).toBe(8);
      expect(await stockOf(cup)).toBe(0);
      // order.placed committed with the order, naming the request that placed it.
      const [event] = await db.dataSource.query(
        "SELECT type, payload, request_id AS requestId FROM outbox WHERE aggregate_type = 'order' AND aggregate_id = ?",
        [String(res.body.data.id)],
      );
      expect(event).toMatchObject({ type: 'order.placed', requestId: res.body.requestId });
      expect(JSON.parse(event.payload)).toEqual({
        orderId: res.body.data.id,
        userId: alice.user.id,
        totalCents: 4900,
        payBefore: res.body.data.payBefore,
        items: [
          { productId: tea, quantity: 2 },
          { productId: cup, quantity: 3 },
        ],
      });

      // The catalog was told: both replicas serve the new stock at once.
      for (const t of [a, b]) {
        expect((await t.http.get(`/api/v1/products/${tea}`)).body.data.stock).toBe(8);
      }

      // A later price change leaves the placed order as it was.
      await a.http
        .patch(`/api/v1/admin/products/${tea}`)
        .set('Authorization', `Bearer ${adminToken}`)
        .send({ priceCents: 9999, name: 'Renamed' });
      const read = await as(alice, b.http.get(`/api/v1/orders/${res.body.data.id}`));
      expect(read.status).toBe(200);
      // The same order, and no package before it is shipped.
      expect(read.body.data).toEqual({ ...res.body.data, shipments: [] });
    });

    it('needs a signed-in user', async () => {
      const res = await a.http
        .post('/api/v1/orders')
        .set('Idempotency-Key', newKey())
        .send({ items: [{ productId: 1, quantity: 1 }] });
      expect(res.status).toBe(401);
      expect((await a.http.get('/api/v1/orders')).status).toBe(401);
    });

    it('refuses an order whose stock is short with 409 and writes nothing, not even the lines in stock', async () => {
      const plenty = await newProduct(10);
      const scarce = await newProduct(1);
      const before = await rowCounts();
      const res = await place(alice, {
        items: [
          { productId: plenty, quantity: 4 },
          { productId: scarce, quantity: 2 },
        ],
      });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 40900, data: { productId: scarce } });
      expect(await rowCounts()).toEqual(before);
      expect(await stockOf(plenty)).toBe(10);
      expect(await stockOf(scarce)).toBe(1);
    });

    // Each replica remembers the names and prices it read for orders and
    // places the next order of those products without reading them again:
    // what changed since must still be what the order stores or refuses.
    describe('after the replica placed orders of the product before', () => {
      const placeOn = async (app: TestApp, items: Line[]) => place(alice, { items }, newKey(), app);
      const adminPatch = (id: number, body: object) =>
        a.http
          .patch(`/api/v1/admin/products/${id}`)
          .set('Authorization', `Bearer ${adminToken}`)
          .send(body);

      it('snapshots the new price and name, even a change of letter case, on every replica', async () => {
        const tea = await newProduct(20, 1000, 'Puer');
        const other = await newProduct(20, 300, 'Saucer');
        for (const app of [a, b]) {
          expect((await placeOn(app, [{ productId: tea, quantity: 1 }])).status).toBe(201);
        }
        // Only the letter case, directly in the table: nothing tells the replicas.
        await db.dataSource.query("UPDATE products SET name = 'PUER' WHERE id = ?", [tea]);
        for (const app of [a, b]) {
          const res = await placeOn(app, [{ productId: tea, quantity: 1 }]);
          expect(res.status).toBe(201);
          expect(res.body.data.items[0]).toMatchObject({ name: 'PUER', unitPriceCents: 1000 });
        }
        await adminPatch(tea, { priceCents: 1100 });
        for (const app of [a, b]) {
          const res = await placeOn(app, [
            { productId: other, quantity: 2 },
            { productId: tea, quantity: 3 },
          ]);
          expect(res.status).toBe(201);
          expect(res.body.data.totalCents).toBe(2 * 300 + 3 * 1100);
          const stored: { name: string; price: number }[] = await db.dataSource.query(
            'SELECT product_name AS name, unit_price_cents AS price FROM order_items WHERE order_id = ?',
            [res.body.data.id],
          );
          expect(Object.fromEntries(stored.map((r) => [r.name, Number(r.price)]))).toEqual({
            PUER: 1100,
            Saucer: 300,
          });
        }
        // 2 + 2 + 6 taken once each, nothing by the refused first attempts.
        expect(await stockOf(tea)).toBe(20 - 10);
        expect(await stockOf(other)).toBe(20 - 4);
      });

      it('answers a product deleted since with 400 and one sold out since with 409, writing nothing', async () => {
        const gone = await newProduct(5);
        const scarce = await newProduct(2);
        expect((await placeOn(a, [{ productId: gone, quantity: 1 }])).status).toBe(201);
        expect((await placeOn(a, [{ productId: scarce, quantity: 1 }])).status).toBe(201);
        await a.http
          .delete(`/api/v1/admin/products/${gone}`)
          .set('Authorization', `Bearer ${adminToken}`);
        const before = await rowCounts();
        const deleted = await placeOn(a, [{ productId: gone, quantity: 1 }]);
        expect(deleted.status).toBe(400);
        expect(deleted.body.data.errors).toEqual([
          { field: 'items[0].productId', message: 'no such product' },
        ]);
        const short = await placeOn(a, [{ productId: scarce, quantity: 2 }]);
        expect(short.status).toBe(409);
        expect(short.body).toMatchObject({ code: 40900, data: { productId: scarce } });
        expect(await rowCounts()).toEqual(before);
        expect(await stockOf(scarce)).toBe(1);
        expect(await stockOf(gone)).toBe(4);
      });
    });
  });

  describe('validation (400/40000, nothing written)', () => {
    let product: number;
    beforeAll(async () => {
      product = await newProduct(100);
    });

    const line = (quantity = 1, productId = product) => ({ productId, quantity });
    const cases: [string, () => unknown, string][] = [
      ['no items', () => ({ items: [] }), 'items'],
      ['items missing', () => ({}), 'items'],
      ['items not an array', () => ({ items: 'x' }), 'items'],
      // The validators pass an empty array as a line; it names no product.
      ['a line that is an empty array', () => ({ items: [line(), []] }), 'items[1].productId'],
      ['quantity 0', () => ({ items: [line(0)] }), 'items[0].quantity'],
      ['quantity 100', () => ({ items: [line(100)] }), 'items[0].quantity'],
      ['quantity 1.5', () => ({ items: [line(1.5)] }), 'items[0].quantity'],
      [
        'productId as a string',
        () => ({ items: [{ productId: '1', quantity: 1 }] }),
        'items[0].productId',
      ],
      [
        'more than 50 lines',
        () => ({ items: Array.from({ length: 51 }, (_, i) => line(1, i + 1)) }),
        'items',
      ],
      ['the same product twice', () => ({ items: [line(1), line(2)] }), 'items'],
      ['remark over 200 chars', () => ({ items: [line()], remark: 'x'.repeat(201) }), 'remark'],
      ['an unknown property', () => ({ items: [line()], coupon: 'FREE' }), 'coupon'],
      [
        'an unknown product',
        () => ({ items: [line(), line(1, 2_000_000_000)] }),
        'items[1].productId',
      ],
    ];

    it.each(cases)('rejects %s', async (_name, body, field) => {
      const before = await rowCounts();
      const stock = await stockOf(product);
      const res = await place(alice, body());
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(40000);
      expect(res.body.data.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ field })]),
      );
      expect(await rowCounts()).toEqual(before);
      expect(await stockOf(product)).toBe(stock);
    });

    it('accepts exactly 50 lines, quantity 99 and a 200-char remark', async () => {
      const ids = await Promise.all(Array.from({ length: 50 }, () => newProduct(99, 1)));
      const res = await place(alice, {
        items: ids.map((productId) => ({ productId, quantity: 99 })),
        remark: 'r'.repeat(200),
      });
      expect(res.status).toBe(201);
      expect(res.body.data.items).toHaveLength(50);
      expect(res.body.data.totalCents).toBe(50 * 99);
    });

    it('rejects a deleted product like an unknown one', async () => {
      const gone = await newProduct(5);
      await a.http
        .delete(`/api/v1/admin/products/${gone}`)
        .set('Authorization', `Bearer ${adminToken}`);
      const res = await place(alice, { items: [line(1, gone)] });
      expect(res.status).toBe(400);
      expect(res.body.data.errors).toEqual([
        { field: 'items[0].productId', message: 'no such product' },
      ]);
    });

    it.each([
      ['missing', null, 'header is required'],
      ['too short', 'short', 'must be 8-64'],
      ['too long', 'k'.repeat(65), 'must be 8-64'],
      ['of odd characters', 'key with spaces', 'must be 8-64'],
    ])('rejects an Idempotency-Key %s and writes nothing', async (_name, key, message) => {
      const before = await rowCounts();
      const res = await place(alice, { items: [line()] }, key);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(40000);
      expect(res.body.data.errors).toEqual([
        { field: 'Idempotency-Key', message: expect.stringContaining(message) },
      ]);
      expect(await rowCounts()).toEqual(before);
    });
  });

  describe('idempotency', () => {
    it('answers a retry with the same order (200, Idempotent-Replayed), on any replica', async () => {
      const product = await newProduct(10);
      const key = newKey();
      const body = { items: [{ productId: product, quantity: 2 }] };
      const first = await place(alice, body, key, a);
      expect(first.status).toBe(201);
      const retry = await place(alice, body, key, b);
      expect(retry.status).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body.data).toEqual(first.body.data);
      expect(await stockOf(product)).toBe(8);
      expect(await count('SELECT COUNT(*) AS n FROM orders WHERE idempotency_key = ?', [key])).toBe(
        1,
      );
    });

    it('refuses the same key with another body (409) and changes nothing', async () => {
      const product = await newProduct(10);
      const key = newKey();
      expect(
        (await place(alice, { items: [{ productId: product, quantity: 1 }] }, key)).status,
      ).toBe(201);
      const before = await rowCounts();
      for (const body of [
        { items: [{ productId: product, quantity: 2 }] },
        { items: [{ productId: product, quantity: 1 }], remark: 'changed' },
      ]) {
        const res = await place(alice, body, key, b);
        expect(res.status).toBe(409);
        expect(res.body.code).toBe(40900);
      }
      expect(await rowCounts()).toEqual(before);
      expect(await stockOf(product)).toBe(9);
    });

    it("keeps keys per user: another user's same key places their own order", async () => {
      const product = await newProduct(10);
      const key = newKey();
      const body = { items: [{ productId: product, quantity: 1 }] };
      const mine = await place(alice, body, key);
      const theirs = await place(bob, body, key);
      expect([mine.status, theirs.status]).toEqual([201, 201]);
      expect(theirs.body.data.id).not.toBe(mine.body.data.id);
      expect(await stockOf(product)).toBe(8);
    });

    it('places one order for 20 concurrent requests with one key across both replicas', async () => {
      const product = await newProduct(100);
      const key = newKey();
      const body = { items: [{ productId: product, quantity: 3 }] };
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => place(alice, body, key, i % 2 ? a : b)),
      );
      expect(results.map((r) => r.status).filter((s) => s === 201)).toHaveLength(1);
      expect(results.every((r) => r.status === 201 || r.status === 200)).toBe(true);
      expect(new Set(results.map((r) => r.body.data.id)).size).toBe(1);
      expect(await count('SELECT COUNT(*) AS n FROM orders WHERE idempotency_key = ?', [key])).toBe(
        1,
      );
      expect(await stockOf(product)).toBe(97);
    });

    it('lets a key whose request was refused be used again (nothing was written for it)', async () => {
      const product = await newProduct(1);
      const key = newKey();
      const body = { items: [{ productId: product, quantity: 2 }] };
      expect((await place(alice, body, key)).status).toBe(409);
      await a.http
        .patch(`/api/v1/admin/products/${product}`)
        .set('Authorization', `Bearer ${adminToken}`)
        .send({ stock: 5 });
      expect((await place(alice, body, key)).status).toBe(201);
    });
  });

  describe('stock under concurrency', () => {
    it('makes exactly 50 orders out of 200 concurrent ones for a stock of 50, across both replicas', async () => {
      const product = await newProduct(50);
      const buyers = [alice, bob, await loginAs(a, wx), await loginAs(b, wx)];
      const before = await rowCounts();
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          place(
            buyers[i % buyers.length],
            { items: [{ productId: product, quantity: 1 }] },
            newKey(),
            i % 2 ? a : b,
          ),
        ),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(50);
      expect(statuses.filter((s) => s === 409)).toHaveLength(150);
      expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 40900)).toBe(
        true,
      );
      expect(await stockOf(product)).toBe(0);
      const after = await rowCounts();
      expect(after.orders - before.orders).toBe(50);
      expect(after.items - before.items).toBe(50);
      expect(
        await count('SELECT COUNT(*) AS n FROM order_items WHERE product_id = ?', [product]),
      ).toBe(50);
    }, 60_000);
  });

  describe('reading orders', () => {
    let carol: LoggedIn;
    const placed: number[] = [];

    beforeAll(async () => {
      carol = await loginAs(b, wx);
      const product = await newProduct(100);
      for (let i = 1; i <= 5; i++) {
        const res = await place(carol, { items: [{ productId: product, quantity: i }] });
        placed.push(res.body.data.id as number);
      }
    });

    it('lists only the own orders, newest first, page by page', async () => {
      const seen: number[] = [];
      let cursor: string | null = '';
      let pages = 0;
      while (cursor !== null) {
        const res = await as(carol, a.http.get('/api/v1/orders')).query({ limit: 2, cursor });
        expect(res.status).toBe(200);
        expect(res.body.data.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.data.items.map((o: { id: number }) => o.id));
        cursor = res.body.data.nextCursor;
        pages++;
      }
      expect(pages).toBe(3);
      expect(seen).toEqual([...placed].reverse());
      const first = await as(carol, a.http.get('/api/v1/orders'));
      expect(first.body.data.items[0].items).toEqual([
        expect.objectContaining({ quantity: 5, subtotalCents: 5000 }),
      ]);
    });

    it('gives a new user an empty list', async () => {
      const dave = await loginAs(a, wx);
      const res = await as(dave, b.http.get('/api/v1/orders'));
      expect(res.body.data).toEqual({ items: [], nextCursor: null });
    });

    it("answers 404 for another user's order, on read and on cancel", async () => {
      const read = await as(alice, a.http.get(`/api/v1/orders/${placed[0]}`));
      expect(read.status).toBe(404);
      expect(read.body.code).toBe(40400);
      const cancel = await as(alice, b.http.post(`/api/v1/orders/${placed[0]}/cancel`));
      expect(cancel.status).toBe(404);
      const mine = await as(carol, a.http.get(`/api/v1/orders/${placed[0]}`));
      expect(mine.body.data.status).toBe('pending');
    });

    it.each([
      ['limit=0', { limit: 0 }, 'limit'],
      ['limit=101', { limit: 101 }, 'limit'],
      ['a forged cursor', { cursor: 'bm90LWEtY3Vyc29y' }, 'cursor'],
    ])('rejects %s with 400', async (_name, query, field) => {
      const res = await as(carol, a.http.get('/api/v1/orders')).query(query);
      expect(res.status).toBe(400);
      expect(res.body.data.errors).toEqual([expect.objectContaining({ field })]);
    });

    it('answers 400 for a malformed id and 404 for an unknown one', async () => {
      expect((await as(carol, a.http.get('/api/v1/orders/abc'))).status).toBe(400);
      expect((await as(carol, a.http.get('/api/v1/orders/99999999'))).status).toBe(404);
    });
  });

  describe('cancelling', () => {
    it('cancels a pending order, returns its stock, and refuses a second cancel', async () => {
      const product = await newProduct(10);
      const order = (await place(alice, { items: [{ productId: product, quantity: 4 }] })).body
        .data;
      expect(await stockOf(product)).toBe(6);
      const res = await as(alice, b.http.post(`/api/v1/orders/${order.id}/cancel`));
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({
        id: order.id,
        status: 'cancelled',
        cancelReason: 'user',
        items: order.items,
      });
      expect(await stockOf(product)).toBe(10);
      expect((await b.http.get(`/api/v1/products/${product}`)).body.data.stock).toBe(10);

      const again = await as(alice, a.http.post(`/api/v1/orders/${order.id}/cancel`));
      expect(again.status).toBe(409);
      expect(again.body.code).toBe(40900);
      expect(await stockOf(product)).toBe(10);
      const read = await as(alice, a.http.get(`/api/v1/orders/${order.id}`));
      expect(read.body.data.status).toBe('cancelled');
    });

    it('returns the stock once when the same order is cancelled 10 times at once on both replicas', async () => {
      const tea = await newProduct(20);
      const cup = await newProduct(20);
      const order = (
        await place(alice, {
          items: [
            { productId: cup, quantity: 5 },
            { productId: tea, quantity: 7 },
          ],
        })
      ).body.data;
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          as(alice, (i % 2 ? a : b).http.post(`/api/v1/orders/${order.id}/cancel`)),
        ),
      );
      const statuses = results.map((r) => r.status).sort((x, y) => x - y);
      expect(statuses).toEqual([200, ...Array(9).fill(409)]);
      expect(await stockOf(tea)).toBe(20);
      expect(await stockOf(cup)).toBe(20);
      // One transition, one event: placed once, cancelled once, in that order.
      const events: { type: string }[] = await db.dataSource.query(
        "SELECT type FROM outbox WHERE aggregate_type = 'order' AND aggregate_id = ? ORDER BY id",
        [String(order.id)],
      );
      expect(events.map((e) => e.type)).toEqual(['order.placed', 'order.cancelled']);
    });
  });
});
