import { loginAs, type LoggedIn } from './helpers/auth.js';
import { useStack } from './helpers/stack.js';

const ADMIN_OPENID = 'hostile-admin';
const product = {
  name: 'Pu-erh',
  description: 'Aged',
  priceCents: 1200,
  stock: 5,
  imageUrl: 'https://img.example.com/puerh.jpg',
};

describe('bad input is a 400 in the envelope and writes nothing', () => {
  const stack = useStack({ env: { ADMIN_OPENIDS: ADMIN_OPENID } });
  let admin: LoggedIn;
  let user: LoggedIn;
  let productId: number;

  beforeAll(async () => {
    admin = await loginAs(stack.app, stack.wx, { admin: true });
    user = await loginAs(stack.app, stack.wx);
    const created = await stack.app.http
      .post('/api/v1/admin/products')
      .set('Authorization', `Bearer ${admin.accessToken}`)
      .send(product);
    expect(created.status).toBe(201);
    productId = created.body.data.id as number;
  });

  it.each([
    [{ nickname: null }, 'nickname'],
    [{ avatarUrl: null }, 'avatarUrl'],
    [{ nickname: 'ok', avatarUrl: null }, 'avatarUrl'],
  ])('PUT /users/me %j: 400 naming the field, user unchanged', async (body, field) => {
    const before = await stack.app.http
      .get('/api/v1/users/me')
      .set('Authorization', `Bearer ${user.accessToken}`);
    const res = await stack.app.http
      .put('/api/v1/users/me')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .send(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 40000, requestId: res.headers['x-request-id'] });
    expect(res.body.data.errors).toEqual([{ field, message: `${field} must not be null` }]);
    const after = await stack.app.http
      .get('/api/v1/users/me')
      .set('Authorization', `Bearer ${user.accessToken}`);
    expect(after.body.data).toEqual(before.body.data);
  });

  it.each(['name', 'description', 'priceCents', 'stock', 'imageUrl'])(
    'PATCH /admin/products/:id with %s: null → 400, product unchanged',
    async (field) => {
      const res = await stack.app.http
        .patch(`/api/v1/admin/products/${productId}`)
        .set('Authorization', `Bearer ${admin.accessToken}`)
        .send({ [field]: null });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(40000);
      expect(res.body.data.errors).toEqual([expect.objectContaining({ field })]);
      const [row] = await stack.db.dataSource.query<Record<string, unknown>[]>(
        'SELECT name, description, price_cents, stock, image_url FROM products WHERE id = ?',
        [productId],
      );
      expect(row).toEqual({
        name: product.name,
        description: product.description,
        price_cents: product.priceCents,
        stock: product.stock,
        image_url: product.imageUrl,
      });
    },
  );

  it('a null inside an order line is refused by name', async () => {
    const res = await stack.app.http
      .post('/api/v1/orders')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .set('Idempotency-Key', 'null-line-0001')
      .send({ items: [{ productId, quantity: null }] });
    expect(res.status).toBe(400);
    expect(res.body.data.errors).toEqual([expect.objectContaining({ field: 'items[0].quantity' })]);
  });

  it.each([
    ['/api/v1/auth/login', false],
    ['/api/v1/users/me', true],
  ])('JSON nested 2,000 levels deep on %s: 400, no stack overflow', async (path, auth) => {
    const deep = '['.repeat(2000) + ']'.repeat(2000);
    const req = path.endsWith('login')
      ? stack.app.http.post(path)
      : stack.app.http.patch(path).set('Authorization', `Bearer ${user.accessToken}`);
    const res = await req
      .set('Content-Type', 'application/json')
      .send(auth ? `{"nickname":${deep}}` : `{"code":${deep}}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 40000, message: 'JSON nested deeper than 32 levels' });
    expect(stack.app.logs.some((l) => l.message === 'unexpected error')).toBe(false);
  });

  it('a __proto__ key is refused (prototype poisoning), as Fastify does', async () => {
    const res = await stack.app.http
      .post('/api/v1/auth/login')
      .set('Content-Type', 'application/json')
      .send('{"code":"abc","__proto__":{"isAdmin":true}}');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(40000);
  });

  it.each(['bearer', 'BEARER', 'bEaReR'])(
    'accepts the scheme spelled %s (RFC 9110: case-insensitive)',
    async (scheme) => {
      const res = await stack.app.http
        .get('/api/v1/users/me')
        .set('Authorization', `${scheme} ${user.accessToken}`);
      expect(res.status).toBe(200);
      expect(res.body.data.id).toBe(user.user.id);
    },
  );
});
