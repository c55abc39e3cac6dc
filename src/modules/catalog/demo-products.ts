import type { DataSource } from 'typeorm';
import { Product } from './product.entity.js';

type DemoProduct = Pick<Product, 'name' | 'description' | 'priceCents' | 'stock' | 'imageUrl'>;

const TEAS = ['Longjing', 'Biluochun', 'Tieguanyin', 'Pu-erh', 'Dahongpao', 'Jasmine'];
const SIZES = [
  { label: '50 g', cents: 3900 },
  { label: '100 g', cents: 6900 },
  { label: '250 g', cents: 14900 },
  { label: 'gift box', cents: 29900 },
];

/** Demo catalog: every tea in every size (24 products), stable names so seeding is idempotent. */
export const DEMO_PRODUCTS: readonly DemoProduct[] = TEAS.flatMap((tea, t) =>
  SIZES.map((size, s) => ({
    name: `${tea} tea, ${size.label}`,
    description: `${tea} tea, ${size.label}. Demo product from npm run seed.`,
    priceCents: size.cents + t * 500,
    stock: 50 + ((t * 7 + s * 13) % 50),
    imageUrl: `https://picsum.photos/seed/${encodeURIComponent(`${tea}-${s}`)}/400/400`,
  })),
);

/**
 * Inserts the demo products not there yet (by name); returns how many were
 * added. With `onlyIntoEmpty`, adds them only to a catalog that never had a
 * product (soft-deleted ones count), so a catalog the user emptied stays empty.
 * One transaction: on the embedded engine it holds SQLite's write lock
 * (BEGIN IMMEDIATE), so a server's first start and `npm run seed` running at
 * once insert each product once.
 */
export async function seedDemoProducts(
  dataSource: DataSource,
  options: { onlyIntoEmpty?: boolean } = {},
): Promise<number> {
  return dataSource.transaction(async (manager) => {
    const repository = manager.getRepository(Product);
    const existing = new Set(
      (await repository.find({ select: { name: true }, withDeleted: true })).map((p) => p.name),
    );
    if (options.onlyIntoEmpty && existing.size > 0) return 0;
    const missing = DEMO_PRODUCTS.filter((p) => !existing.has(p.name));
    if (missing.length > 0) await repository.insert(missing.map((p) => ({ ...p })));
    return missing.length;
  });
}
