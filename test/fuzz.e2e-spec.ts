import fc from 'fast-check';
import type { Test } from 'supertest';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { useStack } from './helpers/stack.js';

// Property-based: every route, fed generated hostile bodies, params, queries
// and headers, answers below 500 and in the envelope, and the database stays
// consistent. Bounded runs keep it to seconds; a failure prints its seed.
const RUNS = 300;
const ADMIN_OPENID = 'fuzz-admin';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Auth = 'none' | 'garbage' | 'user' | 'admin';

interface Route {
  method: Method;
  path: (id: string) => string;
  /** Field names the route knows: the generator puts hostile values in them. */
  fields: string[];
  /** Which credentials may be sent (logout would end the shared sessions). */
  auth: Auth[];
}

const ALL: Auth[] = ['none', 'garbage', 'user', 'admin'];
const ADDRESS_FIELDS = ['name', 'phone', 'province', 'city', 'district', 'detail', 'postalCode'];
const ANON: Auth[] = ['none', 'garbage'];
const ANON_OR_USER: Auth[] = ['none', 'garbage', 'user'];
const ROUTES: Route[] = [
  {
    method: 'post',
    path: () => '/api/v1/auth/login',
    fields: ['code', 'encryptedData', 'iv', 'device'],
    auth: ALL,
  },
  { method: 'post', path: () => '/api/v1/auth/refresh', fields: ['refreshToken'], auth: ALL },
  { method: 'post', path: () => '/api/v1/auth/logout', fields: [], auth: ANON },
  { method: 'post', path: () => '/api/v1/auth/logout-all', fields: [], auth: ANON },
  { method: 'get', path: () => '/api/v1/auth/sessions', fields: [], auth: ALL },
  { method: 'post', path: () => '/api/v1/auth/phone', fields: ['code'], auth: ALL },
  { method: 'get', path: () => '/api/v1/users/me', fields: [], auth: ALL },
  { method: 'patch', path: () => '/api/v1/users/me', fields: ['nickname', 'avatarUrl'], auth: ALL },
  { method: 'get', path: () => '/api/v1/products', fields: [], auth: ALL },
  { method: 'get', path: (id) => `/api/v1/products/${id}`, fields: [], auth: ALL },
  {
    method: 'post',
    path: () => '/api/v1/admin/products',
    fields: ['name', 'description', 'priceCents', 'stock', 'imageUrl'],
    auth: ALL,
  },
  {
    method: 'patch',
    path: (id) => `/api/v1/admin/products/${id}`,
    fields: ['name', 'description', 'priceCents', 'stock', 'imageUrl'],
    auth: ALL,
  },
  { method: 'delete', path: (id) => `/api/v1/admin/products/${id}`, fields: [], auth: ANON },
  {
    method: 'post',
    path: () => '/api/v1/orders',
    fields: ['items', 'remark', 'addressId'],
    auth: ALL,
  },
  { method: 'get', path: () => '/api/v1/orders', fields: [], auth: ALL },
  { method: 'get', path: (id) => `/api/v1/orders/${id}`, fields: [], auth: ALL },
  { method: 'post', path: (id) => `/api/v1/orders/${id}/cancel`, fields: [], auth: ALL },
  {
    method: 'put',
    path: (id) => `/api/v1/orders/${id}/address`,
    fields: ['addressId', ...ADDRESS_FIELDS],
    auth: ALL,
  },
  { method: 'post', path: (id) => `/api/v1/orders/${id}/confirm-receipt`, fields: [], auth: ALL },
  { method: 'get', path: () => '/api/v1/users/me/addresses', fields: [], auth: ALL },
  {
    method: 'post',
    path: () => '/api/v1/users/me/addresses',
    fields: [...ADDRESS_FIELDS, 'isDefault'],
    auth: ALL,
  },
  {
    method: 'put',
    path: (id) => `/api/v1/users/me/addresses/${id}`,
    fields: [...ADDRESS_FIELDS, 'isDefault'],
    auth: ALL,
  },
  { method: 'delete', path: (id) => `/api/v1/users/me/addresses/${id}`, fields: [], auth: ALL },
  { method: 'put', path: (id) => `/api/v1/admin/users/${id}/role`, fields: ['role'], auth: ALL },
  { method: 'get', path: () => '/api/v1/admin/audit', fields: [], auth: ALL },
  { method: 'get', path: () => '/api/v1/admin/orders', fields: [], auth: ALL },
  { method: 'get', path: (id) => `/api/v1/admin/orders/${id}`, fields: [], auth: ALL },
  // An admin's export succeeds as CSV, outside the envelope: only its refusals are fuzzed here.
  { method: 'get', path: () => '/api/v1/admin/orders/export', fields: [], auth: ANON_OR_USER },
  { method: 'get', path: () => '/api/v1/admin/users', fields: [], auth: ALL },
  // The staff console's sign-in (outside /api/v1); no sandbox here, so dev-approve is a 404.
  { method: 'post', path: () => '/console/login-tickets', fields: [], auth: ALL },
  { method: 'get', path: (id) => `/console/login-tickets/${id}`, fields: [], auth: ALL },
  { method: 'post', path: (id) => `/console/login-tickets/${id}/approve`, fields: [], auth: ALL },
  {
    method: 'post',
    path: (id) => `/console/login-tickets/${id}/dev-approve`,
    fields: [],
    auth: ALL,
  },
  { method: 'post', path: () => '/console/logout', fields: [], auth: ALL },
  { method: 'get', path: () => '/health/live', fields: [], auth: ALL },
  { method: 'get', path: () => '/health/ready', fields: [], auth: ALL },
];

const printable = (max: number) => fc.stringMatching(new RegExp(`^[ -~]{0,${max}}$`));

/** Values that broke something somewhere once: nulls, surrogates, huge and odd numbers, deep nests. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    '\ud800',
    '\udfff\ud800',
    '',
    ' ',
    '0',
    '-1',
    '1e308',
    -1,
    0,
    2147483648,
    Number.MAX_SAFE_INTEGER,
    1e308,
    -0,
    0.5,
    true,
    [],
    {},
    [null],
    { __proto__: null },
    'https://img.example.com/a.jpg',
    'x'.repeat(5000),
  ),
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(
    fc.record(
      {
        productId: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.jsonValue()),
        quantity: fc.oneof(fc.integer({ min: -5, max: 200 }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    ),
    { maxLength: 4 },
  ),
);

const body = (fields: string[]): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    fc.constant(undefined),
    (fields.length > 0
      ? fc.dictionary(
          fc.oneof(fc.constantFrom(...fields), fc.string({ maxLength: 8 })),
          hostileValue,
          { maxKeys: 5 },
        )
      : fc.dictionary(fc.string({ maxLength: 8 }), hostileValue, { maxKeys: 3 })
    ).map((o) => JSON.stringify(o)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.integer({ min: 1, max: 3000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
    fc.integer({ min: 1, max: 3000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
    fc.constantFrom(
      '{"__proto__":{"x":1}}',
      '{"constructor":{"prototype":{"x":1}}}',
      '{',
      'null',
      '""',
      '{"a":1,}',
    ),
    fc.string({ maxLength: 200, unit: 'binary' }),
  );

const idSegment = fc.oneof(
  fc.integer({ min: -3, max: 12 }).map(String),
  fc.constantFrom(
    '%FF',
    '%',
    '%zz',
    '%C0%AF',
    '9'.repeat(101),
    '1e3',
    '0x10',
    '2147483648',
    '00001',
    '1.5',
    ' 1',
  ),
  fc.stringMatching(/^[!-~]{1,40}$/).filter((s) => !/[/?#]/.test(s)),
);

const query = fc.option(
  fc
    .dictionary(
      fc.constantFrom('cursor', 'limit', 'x', 'status', 'q', 'userId', 'from', 'to'),
      printable(30),
      { maxKeys: 3 },
    )
    .map((q) =>
      Object.entries(q)
        .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
        .join('&'),
    ),
  { nil: undefined },
);

const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
      'garbage/!!',
    ),
    'idempotency-key': printable(80),
    'x-request-id': printable(140),
    'x-forwarded-for': printable(40),
    accept: printable(30),
    // The console's cookie, garbled or a well-formed unknown one, with or without its CSRF header.
    cookie: fc.oneof(
      printable(80),
      fc.constant('mp_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ),
    'x-console-csrf': fc.constantFrom('1', '0', ''),
    origin: fc.constantFrom('null', 'https://evil.example', 'http://127.0.0.1'),
  },
  { requiredKeys: [] },
);

describe('fuzz: hostile requests on every route', () => {
  const stack = useStack({ env: { ADMIN_OPENIDS: ADMIN_OPENID, LOG_LEVEL: 'warn' } });
  let user: LoggedIn;
  let admin: LoggedIn;

  beforeAll(async () => {
    user = await loginAs(stack.app, stack.wx);
    admin = await loginAs(stack.app, stack.wx, { admin: true });
    stack.wx.pages.add('pages/console-login/index');
    for (let i = 0; i < 3; i++) {
      const res = await stack.app.http
        .post('/api/v1/admin/products')
        .set('Authorization', `Bearer ${admin.accessToken}`)
        .send({ name: `fuzz ${i}`, priceCents: 100 + i, stock: 5 });
      expect(res.status).toBe(201);
    }
  });

  it('never answers 5xx or outside the envelope, and leaves the database consistent', async () => {
    const routeAndBody = fc.constantFrom(...ROUTES).chain((route) =>
      fc.record({
        route: fc.constant(route),
        auth: fc.constantFrom(...route.auth),
        body: body(route.fields),
      }),
    );
    await fc.assert(
      fc.asyncProperty(routeAndBody, idSegment, query, headers, async (r, id, q, h) => {
        const path = r.route.path(id) + (q ? `?${q}` : '');
        let req: Test = stack.app.http[r.route.method](path);
        for (const [k, v] of Object.entries(h)) req = req.set(k, v);
        const token = {
          none: undefined,
          garbage: 'Bearer x.y.z',
          user: `Bearer ${user.accessToken}`,
          admin: `Bearer ${admin.accessToken}`,
        }[r.auth];
        if (token) req = req.set('Authorization', token);
        const res = r.body === undefined ? await req : await req.send(r.body);

        expect(res.status, `${r.route.method} ${path} → ${res.status} ${res.text}`).toBeLessThan(
          500,
        );
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        const envelope = JSON.parse(res.text) as Record<string, unknown>;
        expect(typeof envelope.code).toBe('number');
        expect(typeof envelope.message).toBe('string');
        expect('data' in envelope).toBe(true);
        expect(envelope.requestId).toBe(res.headers['x-request-id']);
        expect(envelope.code === 0).toBe(res.status < 400);
      }),
      { numRuns: RUNS },
    );

    const q = async (sql: string) =>
      Number((await stack.db.dataSource.query<{ n: string }[]>(sql))[0].n);
    expect(await q('SELECT COUNT(*) AS n FROM products WHERE stock < 0')).toBe(0);
    expect(
      await q(
        'SELECT COUNT(*) AS n FROM order_items i LEFT JOIN orders o ON o.id = i.order_id WHERE o.id IS NULL',
      ),
    ).toBe(0);
    expect(
      await q(`SELECT COUNT(*) AS n FROM orders o WHERE o.total_cents <>
          (SELECT COALESCE(SUM(i.unit_price_cents * i.quantity), 0) FROM order_items i WHERE i.order_id = o.id)`),
    ).toBe(0);
    // Every address book within its limit, with exactly one default.
    expect(
      await q(`SELECT COUNT(*) AS n FROM (SELECT user_id FROM user_addresses GROUP BY user_id
          HAVING COUNT(*) > 20 OR SUM(CASE WHEN is_default THEN 1 ELSE 0 END) <> 1) books`),
    ).toBe(0);
    expect(stack.app.logs.some((l) => l.message === 'unexpected error')).toBe(false);
  }, 120_000);
});
