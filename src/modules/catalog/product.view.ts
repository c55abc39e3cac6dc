import { z } from 'zod';
import { apiView, intColumn, isoTime, pageOf, rowId } from '../../common/http/index.js';
import { PRODUCT_DELIVERIES, type Product } from './product.entity.js';

/** What clients see of a product (docs/http-api.md); plain JSON data, so it can be cached as is. */
export const productView = apiView(
  'ProductView',
  z.strictObject({
    id: rowId(),
    name: z.string().meta({ example: 'Longjing tea' }),
    description: z.string(),
    priceCents: intColumn().meta({ example: 5900 }),
    stock: intColumn().meta({ example: 10 }),
    imageUrl: z.string().nullable().meta({ example: 'https://img.example.com/longjing.jpg' }),
    delivery: z.enum(PRODUCT_DELIVERIES).meta({
      description: '`express`: shipped to an address; `virtual`: nothing to ship',
    }),
    updatedAt: isoTime(),
  }),
);
export type ProductView = z.infer<typeof productView>;

export const productPage = pageOf('ProductPage', productView);
export type ProductPage = z.infer<typeof productPage>;

/** The answer of DELETE /admin/products/:id. */
export const deletedProduct = apiView(
  'DeletedProduct',
  z.strictObject({ id: rowId(), deleted: z.literal(true) }),
);
export type DeletedProduct = z.infer<typeof deletedProduct>;

export function toView(p: Product): ProductView {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    priceCents: p.priceCents,
    stock: p.stock,
    imageUrl: p.imageUrl,
    delivery: p.delivery,
    updatedAt: p.updatedAt.toISOString(),
  };
}
