import type { Test } from 'supertest';
import { TwoTierCache } from '../src/infra/cache/index.js';
import { DEMO_PRODUCTS } from '../src/modules/catalog/index.js';
import { SandboxWechatClient } from '../src/modules/wechat/index.js';
import type { TestDatabase } from './helpers/database.js';
import { startEmbeddedTestApp, type TestApp } from './helpers/app.js';
import { useStack } from './helpers/stack.js';
import { loginAs } from './helpers/auth.js';
import type { FakeWechat } from './helpers/fake-wechat.js';

const ADMIN_OPENID = 'catalog-admin';
let adminToken = '';
/** Every admin call goes through here: it carries the admin's access token. */
const admin = (req: Test): Test => req.set('Authorization', `Bearer ${adminToken}`);

const valid = {
  name: 'Longjing tea',
  description: 'Spring harvest',
  priceCents: 5900,
  stock: 10,
  imageUrl: 'https://img.example.com/longjing.jpg',
};

async function eventually<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Catalog on two replicas sharing one database and one Redis', () => {
  const stack = useStack({ apps: 2, env: { LOG_LEVEL: 'warn', ADMIN_OPENIDS: ADMIN_OPENID } });
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let wx: FakeWechat;

  beforeAll(async () => {
    ({ db, wx } = stack);
    [a, b] = stack.apps;
    adminToken = (await loginAs(a, wx, { admin: true })).accessToken;
  });

  it('refuses admin writes without a token (401/40100) and from a non-admin (403/40300), writing nothing', async () => {
    const before = await productCount();
    const anonymous = await a.http.post('/api/v1/admin/products').send(valid);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe(40100);
    const user = await loginAs(a, wx);
    for (const req of [
      a.http.post('/api/v1/admin/products').send(valid),
      a.http.patch('/api/v1/admin/products/1').send({ stock: 0 }),
      a.http.delete('/api/v1/admin/products/1'),
    ]) {
      const res = await req.set('Authorization', `Bearer ${user.accessToken}`);
      expect(res.status).toBe(403);
      expect(res.body.code).toBe(40300);
    }
    expect(await productCount()).toBe(before);
  });

  const create = async (body: Record<string, unknown> = valid) => {
    const res = await admin(a.http.post('/api/v1/admin/products').send(body));
    expect(res.status).toBe(201);
    return res.body.data as { id: number; priceCents: number; updatedAt: string };
  };
  const productCount = async () =>
    Number((await db.dataSource.query('SELECT COUNT(*) AS n FROM products'))[0].n);

  it('creates a product (201) and serves it from the other replica', async () => {
    const res = await admin(a.http.post('/api/v1/admin/products').send(valid));
    expect(res.status).toBe(201);
    expect(res.body.code).toBe(0);
    const { id, updatedAt, ...rest } = res.body.data;
    // Shipped to an address unless the product says otherwise.
    expect(rest).toEqual({ ...valid, delivery: 'express' });
    expect(Number.isInteger(id)).toBe(true);
    expect(new Date(updatedAt).toISOString()).toBe(updatedAt);
    const got = await b.http.get(`/api/v1/products/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.data).toEqual(res.body.data);
  });

  it.each([
    ['name empty', { name: '' }, 'name'],
    ['name over 100 chars', { name: 'x'.repeat(101) }, 'name'],
    ['price not an integer', { priceCents: 1.5 }, 'priceCents'],
    ['price negative', { priceCents: -1 }, 'priceCents'],
    ['price over 100000000', { priceCents: 100_000_001 }, 'priceCents'],
    ['stock negative', { stock: -1 }, 'stock'],
    ['stock as a string', { stock: '5' }, 'stock'],
    ['imageUrl over http', { imageUrl: 'http://img.example.com/a.jpg' }, 'imageUrl'],
    ['imageUrl not a URL', { imageUrl: 'not a url' }, 'imageUrl'],
    ['description over 2000 chars', { description: 'd'.repeat(2001) }, 'description'],
    ['an unknown field', { featured: true }, 'featured'],
  ])('rejects a create with %s (400/40000), writing nothing', async (_label, patch, field) => {
    const before = await productCount();
    const res = await admin(a.http.post('/api/v1/admin/products').send({ ...valid, ...patch }));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(40000);
    expect(res.body.data.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await productCount()).toBe(before);
  });

  it('rejects a create without the required fields', async () => {
    const res = await admin(a.http.post('/api/v1/admin/products').send({ name: 'x' }));
    expect(res.status).toBe(400);
    const fields = res.body.data.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['priceCents', 'stock']);
  });

  it('answers a non-numeric id with 400/40000 and an unknown one with 404/40400', async () => {
    for (const bad of ['abc', '1.5', '-1', '1e3']) {
      const res = await a.http.get(`/api/v1/products/${bad}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(40000);
      expect(res.body.data.errors[0].field).toBe('id');
    }
    for (const missing of ['999999', '0', '99999999999']) {
      const res = await a.http.get(`/api/v1/products/${missing}`);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe(40400);
    }
  });

  it('an admin PATCH through A is served by B within 1 s, although B had it cached', async () => {
    const { id } = await create();
    // B caches the product (two reads: the second is an L1 hit).
    await b.http.get(`/api/v1/products/${id}`);
    const hitsBefore = b.app.get(TwoTierCache).stats.l1Hits;
    expect((await b.http.get(`/api/v1/products/${id}`)).body.data.priceCents).toBe(5900);
    expect(b.app.get(TwoTierCache).stats.l1Hits).toBe(hitsBefore + 1);

    const patched = await admin(
      a.http.patch(`/api/v1/admin/products/${id}`).send({ priceCents: 4900, stock: 3 }),
    );
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ id, priceCents: 4900, stock: 3, name: valid.name });
    const [row] = await db.dataSource.query('SELECT version FROM products WHERE id = ?', [id]);
    expect(Number(row.version)).toBe(2);
    const started = Date.now();
    const seen = await eventually(
      () => b.http.get(`/api/v1/products/${id}`),
      (res) => res.body.data.priceCents === 4900,
      1000,
    );
    expect(seen.body.data).toEqual(patched.body.data);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('rejects an empty or invalid PATCH (400) and a PATCH of a missing product (404)', async () => {
    const { id } = await create();
    const empty = await admin(a.http.patch(`/api/v1/admin/products/${id}`).send({}));
    expect(empty.status).toBe(400);
    const bad = await admin(a.http.patch(`/api/v1/admin/products/${id}`).send({ stock: -5 }));
    expect(bad.status).toBe(400);
    expect(bad.body.data.errors[0].field).toBe('stock');
    const missing = await admin(a.http.patch('/api/v1/admin/products/999999').send({ stock: 1 }));
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe(40400);
    expect((await a.http.get(`/api/v1/products/${id}`)).body.data.stock).toBe(valid.stock);
  });

  it('soft-deletes: both replicas answer 404 within 1 s, the row stays, a second delete is 404', async () => {
    const { id } = await create();
    await b.http.get(`/api/v1/products/${id}`);
    const del = await admin(a.http.delete(`/api/v1/admin/products/${id}`));
    expect(del.status).toBe(200);
    const gone = await eventually(
      () => b.http.get(`/api/v1/products/${id}`),
      (res) => res.status === 404,
      1000,
    );
    expect(gone.status).toBe(404);
    expect((await a.http.get(`/api/v1/products/${id}`)).status).toBe(404);
    const rows = await db.dataSource.query('SELECT deleted_at FROM products WHERE id = ?', [id]);
    expect(rows[0].deleted_at).not.toBeNull();
    expect((await admin(a.http.delete(`/api/v1/admin/products/${id}`))).status).toBe(404);
    expect(
      (await admin(a.http.patch(`/api/v1/admin/products/${id}`).send({ stock: 1 }))).status,
    ).toBe(404);
  });

  it('serves a product created after its id was cached as "not found"', async () => {
    const [{ next }] = await db.dataSource.query(
      'SELECT COALESCE(MAX(id), 0) + 1 AS next FROM products',
    );
    expect((await b.http.get(`/api/v1/products/${next}`)).status).toBe(404);
    const { id } = await create({ ...valid, name: 'Late arrival' });
    expect(id).toBe(Number(next));
    const res = await eventually(
      () => b.http.get(`/api/v1/products/${id}`),
      (r) => r.status === 200,
      1000,
    );
    expect(res.status).toBe(200);
    expect(res.body.data.name).toBe('Late arrival');
  });

  describe('list', () => {
    const walk = async (app: TestApp, limit: number) => {
      const ids: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `&cursor=${cursor}` : '';
        const res = await app.http.get(`/api/v1/products?limit=${limit}${query}`);
        expect(res.status).toBe(200);
        expect(res.body.data.items.length).toBeLessThanOrEqual(limit);
        ids.push(...res.body.data.items.map((p: { id: number }) => p.id));
        cursor = res.body.data.nextCursor;
        pages++;
      } while (cursor && pages < 100);
      return ids;
    };

    it('walks every live product once, in id order, with an opaque cursor', async () => {
      for (let i = 0; i < 5; i++) await create({ ...valid, name: `List item ${i}` });
      const expected = (
        await db.dataSource.query('SELECT id FROM products WHERE deleted_at IS NULL ORDER BY id')
      ).map((r: { id: number }) => Number(r.id));
      expect(await walk(a, 2)).toEqual(expected);
      expect(await walk(b, 3)).toEqual(expected);
      const first = await a.http.get('/api/v1/products?limit=1');
      expect(first.body.data.nextCursor).not.toMatch(/^\d+$/);
    });

    it('defaults to 20 items a page', async () => {
      while ((await productCount()) < 22) await create({ ...valid, name: 'Filler' });
      const res = await a.http.get('/api/v1/products');
      expect(res.body.data.items).toHaveLength(20);
      expect(res.body.data.nextCursor).toEqual(expect.any(String));
    });

    it('drops cached pages on every replica when a product changes', async () => {
      const page = await b.http.get('/api/v1/products?limit=100');
      const target = page.body.data.items[0] as { id: number; name: string };
      await admin(a.http.patch(`/api/v1/admin/products/${target.id}`).send({ name: 'Renamed' }));
      const res = await eventually(
        () => b.http.get('/api/v1/products?limit=100'),
        (r) => r.body.data.items[0].name === 'Renamed',
        1000,
      );
      expect(res.body.data.items[0]).toMatchObject({ id: target.id, name: 'Renamed' });
      await admin(a.http.delete(`/api/v1/admin/products/${target.id}`));
      const after = await eventually(
        () => b.http.get('/api/v1/products?limit=100'),
        (r) => r.body.data.items[0].id !== target.id,
        1000,
      );
      expect(after.body.data.items.map((p: { id: number }) => p.id)).not.toContain(target.id);
    });

    it.each([
      ['limit=0'],
      ['limit=101'],
      ['limit=abc'],
      ['limit=2.5'],
      ['cursor=%25%25%25'],
      ['cursor=MTIz'],
      ['cursor=cDE6MA'],
      ['unknown=1'],
    ])('answers %s with 400/40000', async (query) => {
      const res = await a.http.get(`/api/v1/products?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(40000);
      expect(res.body.data.errors.length).toBeGreaterThan(0);
    });
  });

  it('counts cache hits per tier in /metrics', async () => {
    const { id } = await create();
    await a.http.get(`/api/v1/products/${id}`);
    await b.http.get(`/api/v1/products/${id}`);
    await b.http.get(`/api/v1/products/${id}`);
    const text = (await b.http.get('/metrics')).text;
    expect(text).toMatch(/cache_hits_total\{tier="l1"\} [1-9]/);
    expect(text).toMatch(/cache_hits_total\{tier="l2"\} [1-9]/);
    expect(text).toMatch(/cache_invalidations_received_total [1-9]/);
  });
});

describe('Catalog in the embedded mode (better-sqlite3, no Redis)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // The embedded sandbox WeChat derives the openid from the code.
    const code = 'embedded-admin';
    const openid = SandboxWechatClient.openidFor(code);
    t = await startEmbeddedTestApp({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      ADMIN_OPENIDS: openid,
    });
    const login = await t.http.post('/api/v1/auth/login').send({ code });
    adminToken = login.body.data.accessToken as string;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('starts with the demo products in a new database (the quick start shows products)', async () => {
    const all = await t.http.get('/api/v1/products?limit=100');
    expect(all.body.data.items.map((p: { name: string }) => p.name)).toEqual(
      DEMO_PRODUCTS.map((p) => p.name),
    );
  });

  it('creates, caches, updates and deletes with the in-process cache tiers', async () => {
    const demo = DEMO_PRODUCTS.length;
    const created = await admin(t.http.post('/api/v1/admin/products').send(valid));
    expect(created.status).toBe(201);
    const id = created.body.data.id as number;
    expect((await t.http.get(`/api/v1/products/${id}`)).body.data.stock).toBe(10);
    await admin(t.http.patch(`/api/v1/admin/products/${id}`).send({ stock: 7 }));
    expect((await t.http.get(`/api/v1/products/${id}`)).body.data.stock).toBe(7);
    const listed = (await t.http.get('/api/v1/products?limit=100')).body.data.items;
    expect(listed).toHaveLength(demo + 1);
    expect(listed[demo]).toMatchObject({ id, stock: 7 });
    await admin(t.http.delete(`/api/v1/admin/products/${id}`));
    expect((await t.http.get(`/api/v1/products/${id}`)).status).toBe(404);
    expect((await t.http.get('/api/v1/products?limit=100')).body.data.items).toHaveLength(demo);
  });
});
