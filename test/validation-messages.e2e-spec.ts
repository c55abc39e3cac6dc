import type { Test } from 'supertest';
import { loginAs } from './helpers/auth.js';
import { useStack } from './helpers/stack.js';

/**
 * Each field's message names the first thing wrong in the order a person
 * checks it: missing, then type, then format and range, then rules across
 * values. One row per rule of every request DTO field, through the real routes.
 */
const ADMIN_OPENID = 'validation-admin';
const MAX_INT = 2_147_483_647;

type Body = Record<string, unknown>;
type Who = 'anonymous' | 'user' | 'admin';
interface Route {
  method: 'post' | 'put' | 'patch' | 'get';
  path: string;
  who: Who;
  base: Body;
}

const ROUTES = {
  login: { method: 'post', path: '/api/v1/auth/login', who: 'anonymous', base: { code: 'c' } },
  refresh: {
    method: 'post',
    path: '/api/v1/auth/refresh',
    who: 'anonymous',
    base: { refreshToken: 'r' },
  },
  phone: { method: 'post', path: '/api/v1/auth/phone', who: 'user', base: { code: 'c' } },
  me: { method: 'put', path: '/api/v1/users/me', who: 'user', base: {} },
  createProduct: {
    method: 'post',
    path: '/api/v1/admin/products',
    who: 'admin',
    base: { name: 'Tea', priceCents: 100, stock: 1 },
  },
  updateProduct: { method: 'patch', path: '/api/v1/admin/products/1', who: 'admin', base: {} },
  order: {
    method: 'post',
    path: '/api/v1/orders',
    who: 'user',
    base: { items: [{ productId: 1, quantity: 1 }] },
  },
  products: { method: 'get', path: '/api/v1/products', who: 'anonymous', base: {} },
  orders: { method: 'get', path: '/api/v1/orders', who: 'user', base: {} },
} satisfies Record<string, Route>;

const MISSING = Symbol('missing');
type Row = [route: keyof typeof ROUTES, field: string, value: unknown, message: string];

const line = (over: Body) => ({ productId: 1, quantity: 1, ...over });
const long = (n: number) => 'a'.repeat(n);

/** The rows of a string field: missing (when required), not a string, too short, too long. */
function text(
  route: Row[0],
  field: string,
  rule: { required?: boolean; min?: number; notEmpty?: boolean; max: number; prefix?: string },
): Row[] {
  const prefix = rule.prefix ?? '';
  const rows: Row[] = [];
  if (rule.required) rows.push([route, field, MISSING, `${field} is required`]);
  rows.push([route, field, 7, `${field} must be a string`]);
  const short = `${field} must be longer than or equal to ${rule.min} characters`;
  if (rule.min) rows.push([route, field, '', short]);
  if (rule.notEmpty) rows.push([route, field, '', `${field} should not be empty`]);
  const tooLong = prefix + long(rule.max + 1 - prefix.length);
  rows.push([
    route,
    field,
    tooLong,
    `${field} must be shorter than or equal to ${rule.max} characters`,
  ]);
  return rows;
}

const ROWS: Row[] = [
  // The examples.
  ['order', 'items', MISSING, 'items is required'],
  ['order', 'items[0].quantity', [line({ quantity: '2' })], 'quantity must be an integer number'],
  ['createProduct', 'priceCents', MISSING, 'priceCents is required'],
  ['login', 'code', 123, 'code must be a string'],

  ...text('login', 'code', { required: true, min: 1, max: 128 }),
  ...text('login', 'encryptedData', { notEmpty: true, max: 8192 }),
  ...text('login', 'iv', { notEmpty: true, max: 64 }),
  ...text('login', 'rawData', { max: 8192 }),
  ...text('login', 'signature', { max: 64 }),
  ...text('login', 'device', { max: 128 }),
  ['login', 'extra', 1, 'property extra should not exist'],
  ...text('refresh', 'refreshToken', { required: true, min: 1, max: 256 }),
  ...text('phone', 'code', { required: true, min: 1, max: 128 }),
  ...text('me', 'nickname', { min: 1, max: 32 }),
  ...text('me', 'avatarUrl', { max: 512, prefix: 'https://a.example.com/' }),
  [
    'me',
    'avatarUrl',
    'http://a.example.com/x.png',
    'avatarUrl must be an https URL (a chooseAvatar temporary path cannot be stored: upload the file and send its URL)',
  ],
  ...text('createProduct', 'name', { required: true, min: 1, max: 100 }),
  ...text('createProduct', 'description', { max: 2000 }),
  ['createProduct', 'priceCents', '100', 'priceCents must be an integer number'],
  ['createProduct', 'priceCents', 1.5, 'priceCents must be an integer number'],
  ['createProduct', 'priceCents', -1, 'priceCents must not be less than 0'],
  ['createProduct', 'priceCents', 100_000_001, 'priceCents must not be greater than 100000000'],
  ['createProduct', 'stock', MISSING, 'stock is required'],
  ['createProduct', 'stock', 'many', 'stock must be an integer number'],
  ['createProduct', 'stock', -1, 'stock must not be less than 0'],
  ['createProduct', 'stock', MAX_INT + 1, `stock must not be greater than ${MAX_INT}`],
  ['createProduct', 'imageUrl', 'http://img.example.com/a.jpg', 'imageUrl must be an https URL'],
  ...text('createProduct', 'imageUrl', { max: 512, prefix: 'https://img.example.com/' }),

  ['updateProduct', 'name', 5, 'name must be a string'],
  ['updateProduct', 'priceCents', '1', 'priceCents must be an integer number'],
  ['updateProduct', 'priceCents', 100_000_001, 'priceCents must not be greater than 100000000'],
  ['updateProduct', 'stock', 2.5, 'stock must be an integer number'],
  ['updateProduct', 'imageUrl', 'ftp://x', 'imageUrl must be an https URL'],

  ['order', 'items', 'x', 'items must be an array'],
  ['order', 'items', { productId: 1, quantity: 1 }, 'items must be an array'],
  ['order', 'items', [], 'items must contain at least 1 elements'],
  [
    'order',
    'items',
    Array.from({ length: 51 }, (_, i) => line({ productId: i + 1 })),
    'items must contain no more than 50 elements',
  ],
  ['order', 'items', [line({}), line({})], 'each product may appear on one line only'],
  ['order', 'items[0]', [7], 'items[0] must be an object'],
  ['order', 'items[1]', [line({}), null], 'items[1] must be an object'],
  ['order', 'items[0].productId', [{ quantity: 1 }], 'productId is required'],
  [
    'order',
    'items[0].productId',
    [line({ productId: '1' })],
    'productId must be an integer number',
  ],
  ['order', 'items[0].productId', [line({ productId: 0 })], 'productId must not be less than 1'],
  [
    'order',
    'items[0].productId',
    [line({ productId: MAX_INT + 1 })],
    `productId must not be greater than ${MAX_INT}`,
  ],
  ['order', 'items[0].quantity', [{ productId: 1 }], 'quantity is required'],
  ['order', 'items[0].quantity', [line({ quantity: 0 })], 'quantity must not be less than 1'],
  ['order', 'items[0].quantity', [line({ quantity: 100 })], 'quantity must not be greater than 99'],
  ['order', 'items[0].extra', [line({ extra: 1 })], 'property extra should not exist'],
  ...text('order', 'remark', { max: 200 }),

  ['products', 'limit', 'abc', 'limit must be an integer number'],
  ['products', 'limit', '0', 'limit must not be less than 1'],
  ['products', 'limit', '101', 'limit must not be greater than 100'],
  ['products', 'cursor', long(65), 'cursor must be shorter than or equal to 64 characters'],
  ['orders', 'limit', '1.5', 'limit must be an integer number'],
];

/** Where a row's value goes: `items[0].quantity` rows carry the whole `items` array. */
const topField = (field: string) => field.split(/[.[]/)[0];

describe('Validation messages name the first thing wrong with each field', () => {
  const stack = useStack({
    env: {
      LOG_LEVEL: 'warn',
      ADMIN_OPENIDS: ADMIN_OPENID,
      THROTTLE_DEFAULT_LIMIT: '10000',
      THROTTLE_LOGIN_LIMIT: '10000',
      THROTTLE_ORDERS_LIMIT: '10000',
    },
  });
  const tokens: Partial<Record<Who, string>> = {};

  beforeAll(async () => {
    tokens.user = (await loginAs(stack.app, stack.wx)).accessToken;
    tokens.admin = (await loginAs(stack.app, stack.wx, { admin: true })).accessToken;
  });

  function send(route: Route, body: Body): Test {
    const http = stack.app.http;
    let req =
      route.method === 'get'
        ? http.get(route.path).query(body)
        : http[route.method](route.path).send(body);
    if (route.who !== 'anonymous') req = req.set('Authorization', `Bearer ${tokens[route.who]}`);
    return req.set('Idempotency-Key', 'validation-key-1');
  }

  it.each(ROWS)('%s %s = %j → "%s"', async (name, field, value, message) => {
    const route: Route = ROUTES[name];
    const body = { ...route.base };
    if (value === MISSING) delete body[topField(field)];
    else body[topField(field)] = value;
    const res = await send(route, body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(40000);
    expect(res.body.data.errors).toEqual([{ field, message }]);
  });

  it('reports each wrong field once, in the fields of one body', async () => {
    const res = await send(ROUTES.createProduct, { name: 5, stock: -1 });
    expect(res.status).toBe(400);
    expect(res.body.data.errors).toEqual([
      { field: 'name', message: 'name must be a string' },
      { field: 'priceCents', message: 'priceCents is required' },
      { field: 'stock', message: 'stock must not be less than 0' },
    ]);
  });

  it('names every bad line of an order, and the duplicate rule only once the lines are right', async () => {
    const res = await send(ROUTES.order, { items: [{}, { productId: 1, quantity: 'x' }] });
    expect(res.body.data.errors).toEqual([
      { field: 'items[0].productId', message: 'productId is required' },
      { field: 'items[0].quantity', message: 'quantity is required' },
      { field: 'items[1].quantity', message: 'quantity must be an integer number' },
    ]);
  });
});
