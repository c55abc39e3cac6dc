import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One package of a shipped order (0, 1, … in the order staff gave them; a
 * single parcel is package 0); `shipped_at`, the same for every package,
 * starts the auto-complete clock.
 */
@Entity({ name: 'order_shipments' })
// The back office finds an order by the tracking number of any of its packages.
@Index('idx_order_shipments_tracking_no', ['trackingNo'])
export class OrderShipment {
  @PrimaryColumn({ name: 'order_id', type: 'integer' })
  orderId: number;

  @PrimaryColumn({ name: 'package_index', type: 'integer', default: 0 })
  packageIndex: number;

  @Column({ type: 'varchar', length: 64, nullable: true })
  carrier: string | null;

  @Column({ name: 'tracking_no', type: 'varchar', length: 64, nullable: true })
  trackingNo: string | null;

  @Column({ name: 'shipped_at', type: 'datetime', precision: 6 })
  shippedAt: Date;
}
