import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One line of an order. Name and unit price are copied from the product when
 * the order is placed, so later catalog edits never change a past order.
 */
@Entity({ name: 'order_items' })
@Index('uq_order_items_order_product', ['orderId', 'productId'], { unique: true })
export class OrderItem {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'order_id', type: 'integer' })
  orderId: number;

  @Column({ name: 'product_id', type: 'integer' })
  productId: number;

  @Column({ name: 'product_name', type: 'varchar', length: 100 })
  productName: string;

  @Column({ name: 'unit_price_cents', type: 'integer' })
  unitPriceCents: number;

  @Column({ type: 'integer' })
  quantity: number;
}
