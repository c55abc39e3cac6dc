import { Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import type { Test } from 'supertest';
import { ConsumerRegistry, OutboxWriter, UnrecoverableJobError } from '../src/infra/queue/index.js';
import { Transactions } from '../src/infra/transactions/index.js';
import { STAFF_ROLES, USER_ROLES } from '../src/modules/users/index.js';
import { SAMPLE_ADDRESS } from './helpers/addresses.js';
import { startEmbeddedTestApp, startTestApp } from './helpers/app.js';
import { loginAs } from './helpers/auth.js';
import {
  ContractChecker,
  documentsSuccess,
  HTTP_METHODS,
  openApiPath,
} from './helpers/contract.js';
import { baseEnv, dropRedisKeys } from './helpers/env.js';
import { useStack } from './helpers/stack.js';
import { until } from './helpers/until.js';
import { WechatPusher, newAesKey } from './helpers/wechat-pusher.js';

/**
 * /docs/json against the running app: every route is in it, every route's
 * answers match it (startTestApp checks each answer; here every route is
 * called until each documented success status has been seen).
 */
const ADMIN_OPENID = 'contract-admin';
const NOTIFY = 'POST /api/v1/payments/wechat/notify';
const PUSH = ['GET /api/v1/wechat/push', 'POST /api/v1/wechat/push'];
const EXPORT = 'GET /api/v1/admin/orders/export';
/** Staff approve a console sign-in from the mini-program: a staff route outside /admin. */
const CONSOLE_APPROVE = 'POST /console/login-tickets/{ticket}/approve';
/** The console's files (docs/console.md): pages, not API routes, so not in the document. */
const CONSOLE_FILES = ['GET /console', 'GET /console/*'];
const NOT_ENVELOPED = ['GET /metrics', 'GET /api/v1/wxacode', NOTIFY, ...PUSH, EXPORT];
const PUSH_KEYS = { token: 'contractPush', aesKey: newAesKey(), appId: 'wx-test-appid' };

/** A consumer that can never succeed, so the scenario has a dead letter to list and retry. */
@Injectable()
class DeadEndConsumer implements OnModuleInit {
  constructor(@Inject(ConsumerRegistry) private readonly registry: ConsumerRegistry) {}

  onModuleInit(): void {
    this.registry.register({
      name: 'contract.dead-end',
      events: ['contract.dead-end'],
      handle: () => Promise.reject(new UnrecoverableJobError('never works')),
    });
  }
}

@Module({ providers: [DeadEndConsumer] })
class DeadEndModule {}
type Doc = ConstructorParameters<typeof ContractChecker>[0];
/** A JSON value walked by key, for reading the document in assertions. */
interface Json {
  [key: string]: Json;
}

describe('The OpenAPI document at /docs/json', () => {
  const stack = useStack({
    imports: [DeadEndModule],
    env: {
      LOG_LEVEL: 'warn',
      ADMIN_OPENIDS: ADMIN_OPENID,
      THROTTLE_ORDERS_LIMIT: '1000',
      OUTBOX_POLL_MS: '20',
      WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID: 'tpl-contract-paid',
      WECHAT_SUBSCRIBE_FIELDS_ORDER_PAID: 'thing1=productName,amount2=total',
      WECHAT_PUSH_TOKEN: PUSH_KEYS.token,
      WECHAT_PUSH_AES_KEY: PUSH_KEYS.aesKey,
    },
  });
  let doc: Doc;
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      HTTP_METHODS.filter((m) => item[m]).map((m) => ({
        key: `${m.toUpperCase()} ${path}`,
        op: item[m],
      })),
    );

  beforeAll(async () => {
    const res = await stack.app.http.get('/docs/json');
    expect(res.status).toBe(200);
    doc = res.body as Doc;
  });

  it('lists every route the app serves, and no route it does not serve', () => {
    const served = stack.app.contract.routes
      .filter(
        (r) => !/^\w+ \/docs/.test(r) && !r.startsWith('OPTIONS ') && !CONSOLE_FILES.includes(r),
      )
      .map((r) => {
        const [method, url] = r.split(' ');
        return `${method} ${openApiPath(url)}`;
      });
    expect(new Set(operations().map((o) => o.key))).toEqual(new Set(served));
    expect(served.length).toBeGreaterThanOrEqual(20);
  });

  it('gives every route outside /admin a method wx.request can send (a PATCH only beside a PUT)', () => {
    // wx.request has GET, POST, PUT, DELETE (HEAD, OPTIONS, TRACE, CONNECT), not PATCH.
    const sendable = ['get', 'post', 'put', 'delete'];
    const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
    const paths = Object.entries(doc.paths as Record<string, Record<string, unknown>>).filter(
      ([path]) => !path.startsWith('/api/v1/admin/'),
    );
    expect(paths.length).toBeGreaterThanOrEqual(20);
    const unreachable = paths.flatMap(([path, item]) =>
      methods
        .filter((m) => m in item && !sendable.includes(m) && !(m === 'patch' && 'put' in item))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(unreachable).toEqual([]);
  });

  it('documents, for every API route, its success answer inside the envelope and its errors', () => {
    for (const { key, op } of operations()) {
      if (key !== NOTIFY) expect(documentsSuccess(op), `${key} has no success schema`).toBe(true);
      const statuses = Object.keys(op.responses ?? {});
      const ok = statuses.find((s) => s.startsWith('2')) as string;
      const json = op.responses?.[ok].content?.['application/json'];
      if (!json) {
        // The exceptions docs/http-api.md names: Prometheus text, the PNG of a mini-program
        // code, and WeChat Pay's notification route (204, or its own FAIL format).
        expect(NOT_ENVELOPED, key).toContain(key);
        continue;
      }
      expect(statuses, key).toEqual(expect.arrayContaining(['400', '500', '503']));
      const schema = json.schema as {
        required: string[];
        additionalProperties: boolean;
      };
      expect(schema.required, key).toEqual(['code', 'message', 'data', 'requestId']);
      expect(schema.additionalProperties, key).toBe(false);
    }
  });

  it('resolves every reference it makes', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/(\w+)\/([^"]+)"/g)];
    expect(refs.length).toBeGreaterThan(50);
    const components = doc.components as unknown as Record<string, Record<string, unknown>>;
    for (const [ref, kind, name] of refs) expect(components[kind]?.[name], ref).toBeDefined();
  });

  it('states the error codes of each status from the error table, with an example each', () => {
    const login = doc.paths['/api/v1/auth/login'].post.responses as unknown as Json;
    const codes = (status: string) =>
      login[status].content['application/json'].schema.properties.code.enum;
    expect(codes('422')).toEqual([42200]);
    expect(codes('403')).toEqual([40301]);
    expect(Object.keys(login['502'].content['application/json'].examples)).toEqual(['50200']);
    const me = doc.paths['/api/v1/users/me'].get.responses as unknown as Json;
    expect(me['401'].content['application/json'].schema.properties.code.enum).toEqual([
      40100, 40101, 40102,
    ]);
  });

  it('types every number exactly (integers), with the limits the validators enforce', () => {
    expect(JSON.stringify(doc)).not.toContain('"type":"number"');
    const schemas = doc.components?.schemas as unknown as Json;
    expect(schemas.CreateProductDto).toMatchObject({
      additionalProperties: false,
      required: ['name', 'priceCents', 'stock'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 100 },
        priceCents: { type: 'integer', minimum: 0, maximum: 100_000_000 },
        stock: { type: 'integer', minimum: 0, maximum: 2_147_483_647 },
      },
    });
    expect(schemas.UpdateProductDto.required).toBeUndefined();
    expect(schemas.OrderLineDto.properties.quantity).toEqual({
      type: 'integer',
      minimum: 1,
      maximum: 99,
    });
    expect(schemas.ProductView.properties.id).toMatchObject({
      type: 'integer',
      maximum: 2_147_483_647,
    });
    const get = doc.paths['/api/v1/products/{id}'].get as unknown as { parameters: unknown[] };
    expect(get.parameters).toEqual([
      expect.objectContaining({
        name: 'id',
        in: 'path',
        schema: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
      }),
    ]);
  });

  it('names the roles of every admin route, and the code refuses them to every other role (403/40300)', async () => {
    const admin = operations().filter(({ op }) => (op as { 'x-roles'?: string[] })['x-roles']);
    const underAdmin = operations().filter(
      ({ key }) => key.includes(' /api/v1/admin/') || key === CONSOLE_APPROVE,
    );
    expect(admin.map((a) => a.key).sort()).toEqual(underAdmin.map((a) => a.key).sort());
    expect(admin.length).toBeGreaterThan(0);
    // One user of each role, the staff roles given through the route that gives them.
    const root = await loginAs(stack.app, stack.wx, { admin: true });
    const tokenOf = new Map<string, string>();
    for (const role of USER_ROLES) {
      const member = await loginAs(stack.app, stack.wx);
      const granted = await stack.app.http
        .put(`/api/v1/admin/users/${member.user.id}/role`)
        .set('Authorization', `Bearer ${root.accessToken}`)
        .send({ role });
      expect([granted.status, granted.body.data?.role]).toEqual([200, role]);
      tokenOf.set(role, member.accessToken);
    }
    for (const { key, op } of admin) {
      const roles = (op as { 'x-roles': string[] })['x-roles'];
      // Admin does everything; the rest is the contract's staff paragraph.
      expect(roles, key).toContain('admin');
      expect(STAFF_ROLES, key).toEqual(expect.arrayContaining(roles));
      const [method, path] = key.split(' ');
      for (const role of USER_ROLES.filter((r) => !roles.includes(r))) {
        const http = stack.app.http[method.toLowerCase() as 'post'](path.replace(/\{\w+\}/g, '1'));
        const res = await http.set('Authorization', `Bearer ${tokenOf.get(role)}`).send({});
        expect([res.status, res.body.code], `${key} as ${role}`).toEqual([403, 40300]);
      }
    }
  });

  it('matches the real answers of every route, each documented success status included', async () => {
    const { app, wx } = stack;
    const user = await loginAs(app, wx);
    const admin = await loginAs(app, wx, { admin: true });
    const as = (token: string) => (req: Test) => req.set('Authorization', `Bearer ${token}`);
    const u = as(user.accessToken);
    const a = as(admin.accessToken);
    const ok = async (req: Test, status = 200) => {
      const res = await req;
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      return res.body.data;
    };

    await ok(app.http.get('/health/live'));
    await ok(app.http.get('/health/ready'));
    expect((await app.http.get('/metrics')).status).toBe(200);

    await ok(u(app.http.get('/api/v1/users/me')));
    await ok(u(app.http.put('/api/v1/users/me')).send({ nickname: 'Contract' }));
    wx.reviewWords.add('maybe');
    await ok(u(app.http.patch('/api/v1/users/me')).send({ nickname: 'Contract maybe' }));
    const flags = await ok(a(app.http.get('/api/v1/admin/content-flags')));
    await ok(a(app.http.post(`/api/v1/admin/content-flags/${flags.items[0].id}/clear`)));
    wx.pages.add('pages/index/index');
    const png = await u(app.http.get('/api/v1/wxacode')).query({
      scene: 'id=7',
      page: 'pages/index/index',
    });
    expect([png.status, png.headers['content-type']]).toEqual([200, 'image/png']);
    const pusher = new WechatPusher(PUSH_KEYS);
    expect((await app.http.get('/api/v1/wechat/push').query(pusher.urlCheck('e1'))).text).toBe(
      'e1',
    );
    const push = pusher.push({ FromUserName: 'o-contract', CreateTime: 1, MsgType: 'event' });
    const pushed = await app.http
      .post('/api/v1/wechat/push')
      .query(push.query)
      .set('content-type', push.contentType)
      .send(push.body);
    expect([pushed.status, pushed.text]).toEqual([200, 'success']);
    await ok(a(app.http.get('/api/v1/admin/wechat/push-messages')).query({ limit: 1 }));
    await ok(u(app.http.get('/api/v1/auth/sessions')));
    await ok(
      u(app.http.post('/api/v1/users/me/subscriptions')).send({ accepted: ['tpl-contract-paid'] }),
    );
    wx.addPhoneCode('contract-phone', '13912345678');
    await ok(u(app.http.post('/api/v1/auth/phone')).send({ code: 'contract-phone' }));
    const pair = await ok(
      app.http.post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }),
    );

    const product = await ok(
      a(app.http.post('/api/v1/admin/products')).send({ name: 'Tea', priceCents: 590, stock: 5 }),
      201,
    );
    await ok(a(app.http.patch(`/api/v1/admin/products/${product.id}`)).send({ stock: 8 }));
    await ok(app.http.get('/api/v1/products').query({ limit: 1 }));
    await ok(app.http.get(`/api/v1/products/${product.id}`));

    const v = as(pair.accessToken);
    const body = { items: [{ productId: product.id, quantity: 2 }], remark: 'contract' };
    const place = () =>
      v(app.http.post('/api/v1/orders')).set('Idempotency-Key', 'contract-0001').send(body);
    const order = await ok(place(), 201);
    await ok(place(), 200);
    await ok(v(app.http.get('/api/v1/orders')));
    await ok(v(app.http.get(`/api/v1/orders/${order.id}`)));

    // The address book, and an order's own copy of an address.
    const address = await ok(
      v(app.http.post('/api/v1/users/me/addresses')).send(SAMPLE_ADDRESS),
      201,
    );
    const spare = await ok(
      v(app.http.post('/api/v1/users/me/addresses')).send({
        ...SAMPLE_ADDRESS,
        postalCode: undefined,
      }),
      201,
    );
    await ok(v(app.http.get('/api/v1/users/me/addresses')));
    await ok(
      v(app.http.put(`/api/v1/users/me/addresses/${spare.id}`)).send({
        ...SAMPLE_ADDRESS,
        isDefault: true,
      }),
    );
    await ok(v(app.http.put(`/api/v1/orders/${order.id}/address`)).send({ addressId: spare.id }));
    await ok(v(app.http.delete(`/api/v1/users/me/addresses/${spare.id}`)));
    await ok(v(app.http.post(`/api/v1/orders/${order.id}/cancel`)));
    // A few refusals of each kind, checked against their documented statuses as well.
    expect((await v(app.http.post(`/api/v1/orders/${order.id}/cancel`))).status).toBe(409);
    expect((await v(app.http.get('/api/v1/orders/999999'))).status).toBe(404);
    expect((await app.http.get('/api/v1/orders')).status).toBe(401);

    // The payment lifecycle on the sandbox: pay, paid, confirm, ship, refund; and an admin cancel.
    const payKey = (k: string) =>
      v(app.http.post('/api/v1/orders'))
        .set('Idempotency-Key', k)
        .send({ items: body.items, addressId: address.id });
    const paid = await ok(payKey('contract-0002'), 201);
    await ok(v(app.http.post(`/api/v1/orders/${paid.id}/payment`)));
    await ok(v(app.http.post(`/api/v1/dev/payments/${paid.id}/succeed`)));
    await ok(v(app.http.post(`/api/v1/orders/${paid.id}/payment/confirm`)));
    await ok(a(app.http.post(`/api/v1/admin/orders/${paid.id}/ship`)).send({ carrier: 'SF' }));
    await ok(a(app.http.post(`/api/v1/admin/orders/${paid.id}/wechat-reconcile`)));
    await until(async () => wx.shippingUploads.length > 0, 10_000);
    await ok(a(app.http.post(`/api/v1/admin/orders/${paid.id}/wechat-remind-receipt`)));
    await ok(
      a(app.http.post(`/api/v1/admin/orders/${paid.id}/refund`))
        .set('Idempotency-Key', 'contract-refund-1')
        .send({ amountCents: 100 }),
    );
    const received = await ok(payKey('contract-0005'), 201);
    await ok(v(app.http.post(`/api/v1/orders/${received.id}/payment`)));
    await ok(v(app.http.post(`/api/v1/dev/payments/${received.id}/succeed`)));
    await ok(a(app.http.post(`/api/v1/admin/orders/${received.id}/ship`)).send({ carrier: 'SF' }));
    await ok(v(app.http.post(`/api/v1/orders/${received.id}/confirm-receipt`)));
    const unpaid = await ok(payKey('contract-0003'), 201);
    await ok(a(app.http.post(`/api/v1/admin/orders/${unpaid.id}/cancel`)));

    // After-sales: a return on the completed order, through to its refund; a request withdrawn
    // and one rejected on another paid order.
    const ask = (orderId: number, k: string, type = 'return_refund') =>
      v(app.http.post(`/api/v1/orders/${orderId}/after-sales`))
        .set('Idempotency-Key', k)
        .send({ type, reason: 'wrong size', description: 'unopened' });
    const returned = await ok(ask(received.id, 'contract-as-1'), 201);
    await ok(ask(received.id, 'contract-as-1'), 200);
    await ok(v(app.http.get(`/api/v1/orders/${received.id}/after-sales`)));
    await ok(a(app.http.get('/api/v1/admin/after-sales')).query({ limit: 5 }));
    await ok(a(app.http.post(`/api/v1/admin/after-sales/${returned.id}/approve`)).send({}));
    await ok(
      v(app.http.post(`/api/v1/after-sales/${returned.id}/return-shipment`)).send({
        carrier: 'SF',
        trackingNo: 'SF123',
      }),
    );
    await ok(a(app.http.post(`/api/v1/admin/after-sales/${returned.id}/receive`)));
    await ok(a(app.http.get(`/api/v1/admin/orders/${received.id}`)));
    const another = await ok(payKey('contract-0006'), 201);
    await ok(v(app.http.post(`/api/v1/orders/${another.id}/payment`)));
    await ok(v(app.http.post(`/api/v1/dev/payments/${another.id}/succeed`)));
    const withdrawn = await ok(ask(another.id, 'contract-as-2', 'refund'), 201);
    await ok(v(app.http.post(`/api/v1/after-sales/${withdrawn.id}/cancel`)));
    const refused = await ok(ask(another.id, 'contract-as-3', 'refund'), 201);
    await ok(
      a(app.http.post(`/api/v1/admin/after-sales/${refused.id}/reject`)).send({ reason: 'no' }),
    );
    expect((await ask(another.id, 'contract-as-4')).status).toBe(201);
    expect((await ask(another.id, 'contract-as-5')).body.code).toBe(40921);

    // The back office's reads, and the CSV export outside the envelope.
    await ok(a(app.http.get('/api/v1/admin/orders')).query({ status: 'cancelled', limit: 1 }));
    await ok(a(app.http.get(`/api/v1/admin/orders/${paid.id}`)));
    await ok(a(app.http.get('/api/v1/admin/users')).query({ q: 'Contract' }));
    await ok(a(app.http.get('/api/v1/admin/dashboard')).query({ from: '2026-01-01' }));
    const csv = await a(app.http.get('/api/v1/admin/orders/export')).query({ status: 'shipped' });
    expect([csv.status, csv.headers['content-type']]).toEqual([200, 'text/csv; charset=utf-8']);

    // A flash sale: created, shown, bought, its ticket read.
    const sale = await ok(
      a(app.http.post('/api/v1/admin/flash-sales')).send({
        productId: product.id,
        priceCents: 100,
        stock: 1,
        perUserLimit: 1,
        startsAt: new Date(Date.now() - 1000).toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      }),
      201,
    );
    await ok(app.http.get(`/api/v1/flash-sales/${sale.id}`));
    const admitted = await ok(
      v(app.http.post(`/api/v1/flash-sales/${sale.id}/orders`))
        .set('Idempotency-Key', 'contract-flash-1')
        .send({ quantity: 1 }),
      202,
    );
    await ok(v(app.http.get(`/api/v1/flash-sales/tickets/${admitted.ticket}`)));

    // Queues: the list, a dead letter, and its retry.
    await ok(a(app.http.get('/api/v1/admin/queues')));
    await app.app
      .get(Transactions)
      .run((m) =>
        app.app
          .get(OutboxWriter)
          .append(m, [
            { type: 'contract.dead-end', aggregateType: 'contract', aggregateId: 1, payload: {} },
          ]),
      );
    const deadLetters = '/api/v1/admin/queues/contract.dead-end/dead-letters';
    await until(async () => (await ok(a(app.http.get(deadLetters)))).items.length === 1, 10_000);
    const [dead] = (await ok(a(app.http.get(deadLetters)))).items;
    await ok(a(app.http.post(`${deadLetters}/${dead.jobId}/retry`)));

    // Runtime settings: read, a switch off (503/50301, documented too), the audit, restored.
    await ok(a(app.http.get('/api/v1/admin/settings')));
    await ok(a(app.http.put('/api/v1/admin/settings')).send({ switches: { orders: false } }));
    expect((await payKey('contract-0004')).body.code).toBe(50301);
    await ok(a(app.http.get('/api/v1/admin/settings/audit')).query({ limit: 1 }));
    await ok(a(app.http.put('/api/v1/admin/settings')).send({ switches: { orders: true } }));

    // The staff console: a ticket, its approval by staff, the poll that signs in, logout.
    wx.pages.add('pages/console-login/index');
    const ticketed = await app.http.post('/console/login-tickets');
    expect(ticketed.status).toBe(201);
    const binder = (ticketed.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    const ticketPath = `/console/login-tickets/${ticketed.body.data.ticket}`;
    expect(await ok(app.http.get(ticketPath).set('Cookie', binder))).toEqual({ status: 'waiting' });
    await ok(a(app.http.post(`${ticketPath}/approve`)));
    const signedIn = await app.http.get(ticketPath).set('Cookie', binder);
    expect(signedIn.body.data).toEqual({ status: 'approved' });
    expect((await app.http.post(`${ticketPath}/dev-approve`)).status).toBe(404);
    const consoleCookie = (signedIn.headers['set-cookie'] as unknown as string[])
      .find((c) => c.startsWith('mp_console='))!
      .split(';')[0];
    await ok(
      app.http.post('/console/logout').set({ Cookie: consoleCookie, 'X-Console-CSRF': '1' }),
    );
    // The development sign-in succeeds only in the sandbox: the embedded mode without WeChat.
    const sandbox = await startEmbeddedTestApp({ LOG_LEVEL: 'warn' });
    try {
      const sandboxTicket = await sandbox.http.post('/console/login-tickets');
      expect(sandboxTicket.status).toBe(201);
      const devApprove = `/console/login-tickets/${sandboxTicket.body.data.ticket}/dev-approve`;
      await ok(sandbox.http.post(devApprove));
    } finally {
      await sandbox.close();
    }
    const sandboxSeen = sandbox.contract.checker?.seen ?? new Set<string>();

    await ok(a(app.http.delete(`/api/v1/admin/products/${product.id}`)));
    const audit = await ok(a(app.http.get('/api/v1/admin/audit')).query({ limit: 2 }));
    expect(audit.items[0].action).toBe('product.delete');
    await ok(v(app.http.post('/api/v1/auth/logout')));
    await ok(a(app.http.post('/api/v1/auth/logout-all')));
    await ok(app.http.post('/api/v1/auth/login').send({ code: wx.issueCode({}).code }));

    const checker = app.contract.checker as ContractChecker;
    expect(checker.violations).toEqual([]);
    const documentedSuccesses = operations().flatMap(({ key, op }) =>
      documentsSuccess(op)
        ? Object.keys(op.responses ?? {})
            .filter((s) => s.startsWith('2'))
            .map((s) => `${key} ${s}`)
        : [],
    );
    const missed = documentedSuccesses.filter((s) => !checker.seen.has(s) && !sandboxSeen.has(s));
    expect(missed, 'routes this spec never called successfully').toEqual([]);
  });

  it('refuses an answer the document does not allow (the check can fail)', () => {
    const checker = new ContractChecker(doc);
    const product = {
      id: 7,
      name: 'Tea',
      description: '',
      priceCents: 590,
      stock: 5,
      imageUrl: null,
      delivery: 'express',
      updatedAt: '2026-01-01T08:00:00.000Z',
    };
    const answer = (data: unknown) => ({ code: 0, message: 'ok', data, requestId: 'r-1' });
    const route = '/api/v1/products/:id';
    expect(checker.check('GET', route, 200, answer(product))).toBeUndefined();
    expect(checker.check('GET', route, 200, answer({ ...product, stock: 1.5 }))).toMatch(/integer/);
    expect(checker.check('GET', route, 200, answer({ ...product, secret: 'x' }))).toMatch(
      /additional properties/,
    );
    expect(checker.check('GET', route, 200, answer({ ...product, updatedAt: 'today' }))).toMatch(
      /updatedAt/,
    );
    expect(checker.check('GET', route, 418, answer(product))).toMatch(/status not in the document/);
    expect(
      checker.check('GET', route, 404, { code: 40900, message: 'x', data: null, requestId: 'r' }),
    ).toMatch(/code/);
  });

  it('is not served with DOCS_ENABLED=false', async () => {
    const prefix = `t-docs-off-${process.pid}:`;
    const off = await startTestApp({
      ...baseEnv(stack.db.url, prefix),
      WECHAT_API_BASE_URL: stack.wx.url,
      LOG_LEVEL: 'warn',
      DOCS_ENABLED: 'false',
    });
    try {
      for (const path of ['/docs', '/docs/json']) {
        const res = await off.http.get(path);
        expect(res.status, path).toBe(404);
        expect(res.body.code, path).toBe(40400);
      }
      expect((await off.http.get('/health/live')).status).toBe(200);
    } finally {
      await off.close();
      await dropRedisKeys(prefix);
    }
  });
});
