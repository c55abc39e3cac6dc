export { CatalogModule } from './catalog.module.js';
export { Product } from './product.entity.js';
export { ProductStock } from './product-stock.service.js';
export type { ProductView, ProductPage } from './product.view.js';
export { seedDemoProducts, DEMO_PRODUCTS } from './demo-products.js';
