import { Injectable } from '@nestjs/common';
import type { EntityManager, QueryRunner } from 'typeorm';
import { Product } from './product.entity.js';
import { CatalogService } from './catalog.service.js';

/**
 * The stock API for orders. Each change is one conditional UPDATE inside the
 * caller's transaction (pass its manager: injected repositories do not join
 * it), so stock never goes below zero however many orders race.
 */
@Injectable()
export class ProductStock {
  constructor(private readonly catalog: CatalogService) {}

  /** Takes `quantity` off the stock; false (nothing changed) when the product is missing or short. */
  async take(manager: EntityManager, productId: number, quantity: number): Promise<boolean> {
    // Hand-written: it runs once per order line, and the query builder's
    // parameter rewriting cost more CPU than the statement itself.
    const result = await (manager.queryRunner as QueryRunner).query(
      'UPDATE products SET stock = stock - ? WHERE id = ? AND deleted_at IS NULL AND stock >= ?',
      [quantity, productId, quantity],
      true,
    );
    return result.affected === 1;
  }

  /**
   * `take`, only while the product still has this name and price: false
   * (nothing changed) also when either changed since the caller read them,
   * so an order priced from an earlier read never stores another snapshot
   * than the row it took the units from. Byte-exact name comparison (the
   * column's collation would call 'Tea' and 'tea' equal).
   */
  async takeAsPriced(
    manager: EntityManager,
    productId: number,
    quantity: number,
    name: string,
    priceCents: number,
  ): Promise<boolean> {
    const exactName =
      manager.connection.driver.options.type === 'better-sqlite3' ? 'name' : 'BINARY name';
    const result = await (manager.queryRunner as QueryRunner).query(
      'UPDATE products SET stock = stock - ? WHERE id = ? AND deleted_at IS NULL AND stock >= ? ' +
        `AND price_cents = ? AND ${exactName} = ?`,
      [quantity, productId, quantity, priceCents, name],
      true,
    );
    return result.affected === 1;
  }

  /** Returns `quantity` to the stock (a cancelled order), even to a product deleted since. */
  async giveBack(manager: EntityManager, productId: number, quantity: number): Promise<void> {
    await manager
      .createQueryBuilder()
      .update(Product)
      .set({ stock: () => 'stock + :quantity' })
      .where('id = :id', { id: productId })
      .setParameter('quantity', quantity)
      .execute();
  }

  /** Call after the transaction commits, so every replica serves the new stock. */
  stockChanged(productIds: readonly number[]): Promise<void> {
    return this.catalog.invalidate(productIds);
  }
}
