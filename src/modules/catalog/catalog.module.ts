import { Module } from '@nestjs/common';
import { AdminProductsController } from './admin-products.controller.js';
import { CatalogController } from './catalog.controller.js';
import { CatalogService } from './catalog.service.js';
import { DemoCatalogSeeder } from './demo-catalog.seeder.js';
import { ProductStock } from './product-stock.service.js';

@Module({
  controllers: [CatalogController, AdminProductsController],
  providers: [CatalogService, ProductStock, DemoCatalogSeeder],
  exports: [ProductStock],
})
export class CatalogModule {}
