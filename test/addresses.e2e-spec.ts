import { randomBytes } from 'node:crypto';
import { Transactions } from '../src/infra/transactions/index.js';
import { OrdersService } from '../src/modules/orders/index.js';
import { FulfilmentService } from '../src/modules/payments/fulfilment.service.js';
import { outTradeNoOf } from '../src/modules/payments/trade-numbers.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { startFakeWechatPay, type FakeWechatPay } from './helpers/fake-wechat-pay.js';
import { useStack } from './helpers/stack.js';

const ADMIN = 'addresses-admin';
const API = '/api/v1';
const NOTIFY = `${API}/payments/wechat/notify`;

type Fields = Record<string, unknown>;

/** What `wx.chooseAddress` gives, under our names. */
const home = (over: Fields = {}): Fields => ({
  name: 'Zhang San',
  phone: '13800138000',
  province: 'Guangdong',
  city: 'Guangzhou',
  district: 'Haizhu',
  detail: 'No. 1 Xingang Road',
  postalCode: '510000',
  ...over,
});

describe('delivery addresses, the order’s copy and confirming receipt (MariaDB)', () => {
  let pay: FakeWechatPay;
  beforeAll(async () => {
    pay = await startFakeWechatPay();
  });
  afterAll(() => pay.close());

  const stack = useStack({
    env: () => ({ ...pay.env(), LOG_LEVEL: 'error', ADMIN_OPENIDS: ADMIN }),
  });
  let admin: LoggedIn;
  let alice: LoggedIn;
  let bob: LoggedIn;
  beforeAll(async () => {
    admin = await loginAs(stack.app, stack.wx, { admin: true });
    alice = await loginAs(stack.app, stack.wx);
    bob = await loginAs(stack.app, stack.wx);
  });

  const http = () => stack.app.http;
  const as = (user: LoggedIn) => ({ Authorization: `Bearer ${user.accessToken}` });
  const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    stack.db.dataSource.query(sql, params) as Promise<T[]>;
  const newKey = () => `k-${randomBytes(8).toString('hex')}`;

  const addAddress = (user: LoggedIn, body: Fields = home()) =>
    http().post(`${API}/users/me/addresses`).set(as(user)).send(body);
  const book = async (user: LoggedIn) => {
    const res = await http().get(`${API}/users/me/addresses`).set(as(user));
    expect(res.status).toBe(200);
    return res.body.data as (Fields & { id: number; isDefault: boolean })[];
  };
  const newProduct = async (delivery?: 'express' | 'virtual') => {
    const res = await http()
      .post(`${API}/admin/products`)
      .set(as(admin))
      .send({
        name: 'Tieguanyin',
        priceCents: 1500,
        stock: 100,
        ...(delivery ? { delivery } : {}),
      });
    expect(res.status).toBe(201);
    return res.body.data.id as number;
  };
  const place = (user: LoggedIn, productId: number, extra: Fields = {}) =>
    http()
      .post(`${API}/orders`)
      .set(as(user))
      .set('Idempotency-Key', newKey())
      .send({ items: [{ productId, quantity: 1 }], ...extra });
  const payFor = (user: LoggedIn, orderId: number) =>
    http().post(`${API}/orders/${orderId}/payment`).set(as(user));
  const settle = async (orderId: number) => {
    const outTradeNo = outTradeNoOf(orderId);
    pay.pay(outTradeNo);
    const n = pay.transactionNotification(outTradeNo);
    expect((await http().post(NOTIFY).set(n.headers).send(n.body)).status).toBe(204);
  };
  const setAddress = (user: LoggedIn, orderId: number, body: Fields) =>
    http().put(`${API}/orders/${orderId}/address`).set(as(user)).send(body);
  const ship = (orderId: number) =>
    http()
      .post(`${API}/admin/orders/${orderId}/ship`)
      .set(as(admin))
      .send({ carrier: 'SF', trackingNo: 'SF1234567890' });
  const confirm = (user: LoggedIn, orderId: number) =>
    http().post(`${API}/orders/${orderId}/confirm-receipt`).set(as(user));
  const statusOf = async (orderId: number) =>
    (await q<{ status: string }>('SELECT status FROM orders WHERE id = ?', [orderId]))[0].status;
  const completions = async (orderId: number) =>
    q<{ actor: string; actor_id: number | null }>(
      "SELECT actor, actor_id FROM order_events WHERE order_id = ? AND to_status = 'completed'",
      [orderId],
    );

  /** An express order of `user` with an address from their book, paid (and shipped). */
  async function paidOrder(user: LoggedIn): Promise<number> {
    const address = await addAddress(user, home({ name: 'Receiver' }));
    expect(address.status).toBe(201);
    const placed = await place(user, await newProduct(), { addressId: address.body.data.id });
    expect(placed.status).toBe(201);
    const orderId = placed.body.data.id as number;
    expect((await payFor(user, orderId)).status).toBe(200);
    await settle(orderId);
    expect(await statusOf(orderId)).toBe('paid');
    return orderId;
  }
  async function shippedOrder(user: LoggedIn): Promise<number> {
    const orderId = await paidOrder(user);
    expect((await ship(orderId)).status).toBe(200);
    return orderId;
  }

  describe('the address book', () => {
    it('makes the first address the default, lists the default first, replaces and moves the default', async () => {
      const carol = await loginAs(stack.app, stack.wx);
      expect(await book(carol)).toEqual([]);
      const first = await addAddress(carol);
      expect(first.status).toBe(201);
      expect(first.body.data).toEqual({ id: expect.any(Number), ...home(), isDefault: true });
      const second = await addAddress(
        carol,
        home({ name: 'Li Si', phone: '010-12345678', postalCode: undefined }),
      );
      expect(second.status).toBe(201);
      expect(second.body.data).toMatchObject({ isDefault: false, postalCode: null });
      expect((await book(carol)).map((a) => [a.id, a.isDefault])).toEqual([
        [first.body.data.id, true],
        [second.body.data.id, false],
      ]);

      // A replacement without isDefault keeps the default where it is.
      const replaced = await http()
        .put(`${API}/users/me/addresses/${second.body.data.id}`)
        .set(as(carol))
        .send(home({ name: 'Wang Wu', district: '' }));
      expect(replaced.status).toBe(200);
      expect(replaced.body.data).toEqual({
        id: second.body.data.id,
        ...home({ name: 'Wang Wu', district: '' }),
        isDefault: false,
      });
      // isDefault: false on the default does not leave the book without one.
      const kept = await http()
        .put(`${API}/users/me/addresses/${first.body.data.id}`)
        .set(as(carol))
        .send(home({ isDefault: false }));
      expect(kept.body.data.isDefault).toBe(true);

      const moved = await http()
        .put(`${API}/users/me/addresses/${second.body.data.id}`)
        .set(as(carol))
        .send(home({ name: 'Wang Wu', isDefault: true }));
      expect(moved.body.data.isDefault).toBe(true);
      expect((await book(carol)).map((a) => [a.id, a.isDefault])).toEqual([
        [second.body.data.id, true],
        [first.body.data.id, false],
      ]);

      // A new address can take the default at once.
      const third = await addAddress(carol, home({ name: 'Zhao Liu', isDefault: true }));
      expect(third.body.data.isDefault).toBe(true);
      expect((await book(carol)).filter((a) => a.isDefault).map((a) => a.id)).toEqual([
        third.body.data.id,
      ]);

      // Removing the default promotes the newest remaining address.
      const removed = await http()
        .delete(`${API}/users/me/addresses/${third.body.data.id}`)
        .set(as(carol));
      expect(removed.status).toBe(200);
      expect(removed.body.data).toEqual({ id: third.body.data.id, deleted: true });
      expect((await book(carol)).map((a) => [a.id, a.isDefault])).toEqual([
        [second.body.data.id, true],
        [first.body.data.id, false],
      ]);
      const again = await http()
        .delete(`${API}/users/me/addresses/${third.body.data.id}`)
        .set(as(carol));
      expect(again.status).toBe(404);
    });

    it.each([
      ['a mainland mobile number', '13912345678'],
      ['a mobile number with +86', '+8613912345678'],
      ['a landline with its area code', '0755-88888888'],
      ['a landline without the hyphen', '01012345678'],
      ['a landline with an extension', '021-87654321-123'],
    ])('accepts %s', async (_, phone) => {
      const res = await addAddress(bob, home({ phone }));
      expect(res.status).toBe(201);
      expect(res.body.data.phone).toBe(phone);
      expect(
        (await http().delete(`${API}/users/me/addresses/${res.body.data.id}`).set(as(bob))).status,
      ).toBe(200);
    });

    it.each([
      ['phone', home({ phone: '12345678901' })],
      ['phone', home({ phone: '1380013800' })],
      ['phone', home({ phone: '138 0013 8000' })],
      ['phone', home({ phone: '88888888' })],
      ['phone', home({ phone: 13800138000 })],
      ['name', home({ name: '' })],
      ['name', home({ name: '   ' })],
      ['name', home({ name: 'x'.repeat(33) })],
      ['name', home({ name: 'Zhang\u0000San' })],
      ['detail', home({ detail: 'Room 1\nBuilding 2' })],
      ['detail', home({ detail: 'x'.repeat(201) })],
      ['province', home({ province: undefined })],
      ['district', home({ district: 'x'.repeat(33) })],
      ['postalCode', home({ postalCode: '51000' })],
      ['postalCode', home({ postalCode: null })],
      ['isDefault', home({ isDefault: 'yes' })],
      ['nationalCode', home({ nationalCode: '440105' })],
    ])('refuses a bad %s with 400 naming it, writing nothing', async (field, body) => {
      const before = await book(bob);
      const res = await addAddress(bob, body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(40000);
      expect(res.body.data.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ field })]),
      );
      expect(await book(bob)).toEqual(before);
    });

    it('holds at most 20 addresses: the 21st is a 409 and changes nothing', async () => {
      const dave = await loginAs(stack.app, stack.wx);
      for (let i = 0; i < 20; i++) {
        expect((await addAddress(dave, home({ name: `N${i}` }))).status).toBe(201);
      }
      const res = await addAddress(dave, home({ name: 'one too many', isDefault: true }));
      expect(res.status).toBe(409);
      expect(res.body.code).toBe(40900);
      const all = await book(dave);
      expect(all).toHaveLength(20);
      expect(all.filter((a) => a.isDefault).map((a) => a.name)).toEqual(['N0']);
    });

    it('keeps one default and the limit while 25 writes race, all asking to be the default', async () => {
      const erin = await loginAs(stack.app, stack.wx);
      const seed = await addAddress(erin, home({ name: 'seed' }));
      const results = await Promise.all([
        ...Array.from({ length: 24 }, (_, i) =>
          addAddress(erin, home({ name: `R${i}`, isDefault: true })),
        ),
        http()
          .put(`${API}/users/me/addresses/${seed.body.data.id}`)
          .set(as(erin))
          .send(home({ name: 'seed', isDefault: true })),
      ]);
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(19);
      expect(statuses.filter((s) => s === 409)).toHaveLength(5);
      const [{ n, defaults }] = await q<{ n: number; defaults: number }>(
        'SELECT COUNT(*) AS n, SUM(is_default) AS defaults FROM user_addresses WHERE user_id = ?',
        [erin.user.id],
      );
      expect([Number(n), Number(defaults)]).toEqual([20, 1]);
      expect((await book(erin))[0].isDefault).toBe(true);
    });

    it("answers 404 for another user's address, and leaves it alone", async () => {
      const mine = await addAddress(alice, home({ name: 'Alice' }));
      const id = mine.body.data.id as number;
      const put = await http()
        .put(`${API}/users/me/addresses/${id}`)
        .set(as(bob))
        .send(home({ name: 'Bob' }));
      expect(put.status).toBe(404);
      expect(put.body.code).toBe(40400);
      expect((await http().delete(`${API}/users/me/addresses/${id}`).set(as(bob))).status).toBe(
        404,
      );
      expect((await book(bob)).some((a) => a.id === id)).toBe(false);
      expect((await book(alice)).find((a) => a.id === id)).toMatchObject({ name: 'Alice' });

      const productId = await newProduct();
      const before = await q('SELECT COUNT(*) AS n FROM orders WHERE user_id = ?', [bob.user.id]);
      const placed = await place(bob, productId, { addressId: id });
      expect(placed.status).toBe(404);
      expect(await q('SELECT COUNT(*) AS n FROM orders WHERE user_id = ?', [bob.user.id])).toEqual(
        before,
      );
      const order = await place(bob, productId);
      expect((await setAddress(bob, order.body.data.id, { addressId: id })).status).toBe(404);
      expect((await setAddress(alice, order.body.data.id, home())).status).toBe(404);
    });
  });

  describe('the order’s address', () => {
    it('is a copy: editing or deleting the book entry never changes the order', async () => {
      const address = await addAddress(alice, home({ name: 'Original' }));
      const placed = await place(alice, await newProduct(), { addressId: address.body.data.id });
      expect(placed.status).toBe(201);
      const copy = { ...home({ name: 'Original' }) };
      expect(placed.body.data.address).toEqual(copy);
      const orderId = placed.body.data.id as number;

      await http()
        .put(`${API}/users/me/addresses/${address.body.data.id}`)
        .set(as(alice))
        .send(home({ name: 'Edited', phone: '13911112222' }));
      expect(
        (await http().get(`${API}/orders/${orderId}`).set(as(alice))).body.data.address,
      ).toEqual(copy);
      await http().delete(`${API}/users/me/addresses/${address.body.data.id}`).set(as(alice));
      expect(
        (await http().get(`${API}/orders/${orderId}`).set(as(alice))).body.data.address,
      ).toEqual(copy);
      const [row] = await q('SELECT address_name, address_phone FROM orders WHERE id = ?', [
        orderId,
      ]);
      expect(row).toEqual({ address_name: 'Original', address_phone: '13800138000' });
    });

    it('is null until set; an order without one is placed as before', async () => {
      const placed = await place(alice, await newProduct());
      expect(placed.status).toBe(201);
      expect(placed.body.data.address).toBeNull();
    });

    it('can be set while pending (inline) and paid (from the book), not once shipped', async () => {
      const pending = await place(alice, await newProduct());
      const orderId = pending.body.data.id as number;
      const inline = await setAddress(
        alice,
        orderId,
        home({ name: 'Inline', postalCode: undefined }),
      );
      expect(inline.status).toBe(200);
      expect(inline.body.data.address).toEqual(home({ name: 'Inline', postalCode: null }));

      const paid = await paidOrder(alice);
      const other = await addAddress(alice, home({ name: 'Office', phone: '020-81167888' }));
      const changed = await setAddress(alice, paid, { addressId: other.body.data.id });
      expect(changed.status).toBe(200);
      expect(changed.body.data).toMatchObject({
        status: 'paid',
        address: home({ name: 'Office', phone: '020-81167888' }),
      });
      // An address change is no status change: no timeline row.
      expect(
        await q('SELECT to_status FROM order_events WHERE order_id = ? ORDER BY id', [paid]),
      ).toEqual([{ to_status: 'pending' }, { to_status: 'paid' }]);

      expect((await ship(paid)).status).toBe(200);
      const late = await setAddress(alice, paid, home({ name: 'Too late' }));
      expect(late.status).toBe(409);
      expect(late.body.code).toBe(40900);
      const [row] = await q<{ address_name: string }>(
        'SELECT address_name FROM orders WHERE id = ?',
        [paid],
      );
      expect(row.address_name).toBe('Office');

      const cancelled = await place(alice, await newProduct());
      await http().post(`${API}/orders/${cancelled.body.data.id}/cancel`).set(as(alice));
      expect((await setAddress(alice, cancelled.body.data.id, home())).status).toBe(409);
    });

    it.each([
      ['addressId', { addressId: 1, name: 'both' }],
      ['phone', home({ phone: undefined })],
      ['detail', home({ detail: undefined })],
      ['phone', home({ phone: '110' })],
      ['addressId', { addressId: 0 }],
    ])('refuses a bad body naming %s, leaving the order unchanged', async (field, body) => {
      const placed = await place(alice, await newProduct());
      const res = await setAddress(alice, placed.body.data.id, body);
      expect(res.status).toBe(400);
      expect(res.body.data.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ field })]),
      );
      const [row] = await q('SELECT address_name FROM orders WHERE id = ?', [placed.body.data.id]);
      expect(row).toEqual({ address_name: null });
    });

    it('is needed before an express order is paid (409/40920), not for virtual goods', async () => {
      const express = await place(alice, await newProduct('express'));
      const orderId = express.body.data.id as number;
      const refused = await payFor(alice, orderId);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe(40920);
      expect(pay.transactions.has(outTradeNoOf(orderId))).toBe(false);
      expect((await setAddress(alice, orderId, home())).status).toBe(200);
      expect((await payFor(alice, orderId)).status).toBe(200);

      const virtual = await place(alice, await newProduct('virtual'));
      expect((await payFor(alice, virtual.body.data.id)).status).toBe(200);

      // One express line among virtual ones is enough to need an address.
      const mixed = await http()
        .post(`${API}/orders`)
        .set(as(alice))
        .set('Idempotency-Key', newKey())
        .send({
          items: [
            { productId: await newProduct('virtual'), quantity: 1 },
            { productId: await newProduct('express'), quantity: 1 },
          ],
        });
      expect((await payFor(alice, mixed.body.data.id)).body.code).toBe(40920);
    });

    it('is given to a flash-sale order through PUT /orders/:id/address before it is paid', async () => {
      const productId = await newProduct();
      const [orderId] = await stack.app.app.get(Transactions).run((m) =>
        stack.app.app.get(OrdersService).placeBatch(
          m,
          [
            {
              userId: alice.user.id,
              idempotencyKey: `flash-${randomBytes(6).toString('hex')}`,
              requestHash: 'f'.repeat(64),
              lines: [{ productId, productName: 'flash', unitPriceCents: 500, quantity: 1 }],
            },
          ],
          'flash_sale',
        ),
      );
      expect((await payFor(alice, orderId)).body.code).toBe(40920);
      const address = await addAddress(alice, home({ name: 'Flash buyer' }));
      const set = await setAddress(alice, orderId, { addressId: address.body.data.id });
      expect(set.body.data).toMatchObject({
        status: 'pending',
        address: home({ name: 'Flash buyer' }),
      });
      expect((await payFor(alice, orderId)).status).toBe(200);
      await settle(orderId);
      expect(await statusOf(orderId)).toBe('paid');
    });

    it('makes the address part of the idempotent request', async () => {
      const productId = await newProduct();
      const a1 = await addAddress(alice, home({ name: 'A1' }));
      const a2 = await addAddress(alice, home({ name: 'A2' }));
      const key = newKey();
      const send = (addressId: number) =>
        http()
          .post(`${API}/orders`)
          .set(as(alice))
          .set('Idempotency-Key', key)
          .send({ items: [{ productId, quantity: 1 }], addressId });
      const first = await send(a1.body.data.id);
      expect(first.status).toBe(201);
      const replay = await send(a1.body.data.id);
      expect([replay.status, replay.body.data.id]).toEqual([200, first.body.data.id]);
      expect((await send(a2.body.data.id)).status).toBe(409);
    });
  });

  describe('confirming receipt', () => {
    it('completes a shipped order once, recorded as the buyer; every other state is a 409', async () => {
      const orderId = await shippedOrder(alice);
      expect((await confirm(bob, orderId)).status).toBe(404);
      const res = await confirm(alice, orderId);
      expect(res.status).toBe(200);
      expect(res.body.data.status).toBe('completed');
      const again = await confirm(alice, orderId);
      expect(again.status).toBe(409);
      expect(again.body.code).toBe(40900);
      expect(await completions(orderId)).toEqual([{ actor: 'user', actor_id: alice.user.id }]);

      const paid = await paidOrder(alice);
      expect((await confirm(alice, paid)).status).toBe(409);
      expect(await statusOf(paid)).toBe('paid');
      const pending = await place(alice, await newProduct());
      expect((await confirm(alice, pending.body.data.id)).status).toBe(409);
      expect(await statusOf(pending.body.data.id)).toBe('pending');
    });

    it('racing the auto-complete timer, the order completes once with one timeline row', async () => {
      const fulfilment = stack.app.app.get(FulfilmentService);
      const transactions = stack.app.app.get(Transactions);
      for (let round = 0; round < 3; round++) {
        const orderId = await shippedOrder(alice);
        // Due for the timer: shipped longer ago than ORDER_AUTO_COMPLETE_DAYS.
        await q('UPDATE order_shipments SET shipped_at = ? WHERE order_id = ?', [
          new Date(Date.now() - fulfilment.autoCompleteMs - 60_000),
          orderId,
        ]);
        const results = await Promise.all([
          ...Array.from({ length: 4 }, () => confirm(alice, orderId)),
          ...Array.from({ length: 4 }, () =>
            transactions.run((m) => fulfilment.complete(m, orderId)),
          ),
        ]);
        const byBuyer = results.slice(0, 4).map((r) => (r as { status: number }).status);
        const byTimer = results.slice(4) as boolean[];
        const wins = byBuyer.filter((s) => s === 200).length + byTimer.filter(Boolean).length;
        expect(wins).toBe(1);
        expect(byBuyer.every((s) => s === 200 || s === 409)).toBe(true);
        expect(await statusOf(orderId)).toBe('completed');
        const rows = await completions(orderId);
        expect(rows).toHaveLength(1);
        expect(rows[0].actor).toBe(byTimer.some(Boolean) ? 'timer' : 'user');
      }
    });
  });

  describe('products’ delivery', () => {
    it('is express by default, can be virtual, and is refused when it is anything else', async () => {
      const express = await newProduct();
      expect((await http().get(`${API}/products/${express}`)).body.data.delivery).toBe('express');
      const patched = await http()
        .patch(`${API}/admin/products/${express}`)
        .set(as(admin))
        .send({ delivery: 'virtual' });
      expect(patched.body.data.delivery).toBe('virtual');
      expect((await http().get(`${API}/products/${express}`)).body.data.delivery).toBe('virtual');
      const bad = await http()
        .post(`${API}/admin/products`)
        .set(as(admin))
        .send({ name: 'x', priceCents: 1, stock: 1, delivery: 'pigeon' });
      expect(bad.status).toBe(400);
      expect(bad.body.data.errors).toEqual([expect.objectContaining({ field: 'delivery' })]);
    });
  });
});
