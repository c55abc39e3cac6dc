import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { seedDemoProducts } from './demo-products.js';

/**
 * The embedded quick start shows products at once: its first start fills a
 * catalog that never had a product with the demo products (what `npm run
 * seed` adds). A MySQL deployment is never seeded behind its owner's back.
 */
@Injectable()
export class DemoCatalogSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(DemoCatalogSeeder.name);

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.database.kind !== 'embedded') return;
    const added = await seedDemoProducts(this.dataSource, { onlyIntoEmpty: true });
    if (added > 0) this.logger.log(`embedded database was empty: ${added} demo product(s) added`);
  }
}
