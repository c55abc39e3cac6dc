import type { TestApp } from './app.js';

/**
 * A product and a flash sale of `stock` of its units that started a second
 * ago and runs for two minutes, made through the admin API; the sale's id.
 */
export async function liveFlashSale(
  app: TestApp,
  adminToken: string,
  sale: { stock: number; perUserLimit: number; productStock: number },
): Promise<number> {
  const product = await app.http
    .post('/api/v1/admin/products')
    .set('Authorization', `Bearer ${adminToken}`)
    .send({ name: 'Longjing', priceCents: 3000, stock: sale.productStock });
  expect(product.status).toBe(201);
  const created = await app.http
    .post('/api/v1/admin/flash-sales')
    .set('Authorization', `Bearer ${adminToken}`)
    .send({
      productId: product.body.data.id,
      priceCents: 1500,
      stock: sale.stock,
      perUserLimit: sale.perUserLimit,
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 120_000).toISOString(),
    });
  expect(created.status).toBe(201);
  return created.body.data.id as number;
}
