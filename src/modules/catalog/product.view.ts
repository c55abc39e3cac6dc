import type { Product } from './product.entity.js';

/** What clients see of a product (API.md); plain JSON data, so it can be cached as is. */
export interface ProductView {
  id: number;
  name: string;
  description: string;
  priceCents: number;
  stock: number;
  imageUrl: string | null;
  updatedAt: string;
}

export interface ProductPage {
  items: ProductView[];
  nextCursor: string | null;
}

export function toView(p: Product): ProductView {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    priceCents: p.priceCents,
    stock: p.stock,
    imageUrl: p.imageUrl,
    updatedAt: p.updatedAt.toISOString(),
  };
}
