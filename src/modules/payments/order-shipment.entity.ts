import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** How a shipped order went out; `shipped_at` starts the auto-complete clock. */
@Entity({ name: 'order_shipments' })
// The back office finds an order by its tracking number.
@Index('idx_order_shipments_tracking_no', ['trackingNo'])
export class OrderShipment {
  @PrimaryColumn({ name: 'order_id', type: 'integer' })
  orderId: number;

  @Column({ type: 'varchar', length: 64, nullable: true })
  carrier: string | null;

  @Column({ name: 'tracking_no', type: 'varchar', length: 64, nullable: true })
  trackingNo: string | null;

  @Column({ name: 'shipped_at', type: 'datetime', precision: 6 })
  shippedAt: Date;
}
