import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppError, validationError } from '../../common/errors/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { AuditLog } from '../../infra/audit/index.js';
import { OutboxWriter } from '../../infra/queue/index.js';
import { Transactions } from '../../infra/transactions/index.js';
import {
  ORDER_EVENTS,
  OrderItem,
  OrderShipment,
  OrderTransitions,
  OrdersService,
  orderEvent,
  type Order,
} from '../orders/index.js';
import type { PackageDto, ShipDto } from './payments.dto.js';

/** A parcel as the shipping upload needs it. */
export interface ShippedPackage {
  carrier: string;
  trackingNo: string;
  /** The products in it; null: the whole order. */
  productIds: number[] | null;
}

export interface OrderShippedPayload {
  orderId: number;
  userId: number;
  /** The first parcel's, when shipped in several. */
  carrier: string | null;
  trackingNo: string | null;
  /** Absent or null: one parcel (carrier/trackingNo) or none. */
  packages?: ShippedPackage[] | null;
  /** ISO 8601: starts the ORDER_AUTO_COMPLETE_DAYS clock. */
  shippedAt: string;
  /** Same-city delivery by our own courier; absent: express or picked up. */
  sameCity?: boolean;
}

/** Shipping (paid → shipped) and the automatic completion that follows it. */
@Injectable()
export class FulfilmentService {
  readonly autoCompleteMs: number;

  constructor(
    private readonly transactions: Transactions,
    private readonly outbox: OutboxWriter,
    private readonly audit: AuditLog,
    private readonly orders: OrdersService,
    private readonly transitions: OrderTransitions,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.autoCompleteMs = config.fulfilment.autoCompleteDays * 86_400_000;
  }

  /**
   * Staff member `staffId` marks a paid order shipped; `order.shipped`
   * carries what the shipping upload and the completion job need.
   */
  async ship(orderId: number, dto: ShipDto, staffId: number): Promise<Order> {
    return this.transactions.run(async (m) => {
      const order = await this.orders.findWithin(m, orderId);
      if (!order) throw new AppError('NOT_FOUND', 'order not found');
      const shipped = await this.transitions.apply(m, {
        orderId,
        from: 'paid',
        to: 'shipped',
        actor: 'staff',
        actorId: staffId,
        reason: dto.carrier ?? null,
      });
      if (!shipped) {
        throw new AppError('CONFLICT', `only a paid order can be shipped (it is ${order.status})`);
      }
      if (dto.sameCity && dto.packages) {
        throw validationError([
          { field: 'packages', message: 'same-city delivery is one parcel: give no packages' },
        ]);
      }
      const packages = dto.packages
        ? await this.checkPackages(m, orderId, dto, dto.packages)
        : null;
      const shippedAt = new Date();
      // One row a package (package 0 alone for a single parcel or none), with the status change.
      const rows = (
        packages ?? [{ carrier: dto.carrier ?? null, trackingNo: dto.trackingNo ?? null }]
      ).map((p, packageIndex) => ({
        orderId,
        packageIndex,
        carrier: p.carrier,
        trackingNo: p.trackingNo,
        shippedAt,
      }));
      await m.insert(OrderShipment, rows);
      const first = rows[0];
      const shipment = { orderId, carrier: first.carrier, trackingNo: first.trackingNo };
      await this.audit.record(m, {
        actorId: staffId,
        action: 'order.ship',
        target: `order:${orderId}`,
        before: { status: 'paid' },
        after: {
          status: 'shipped',
          carrier: shipment.carrier,
          trackingNo: shipment.trackingNo,
          packages: packages?.length ?? null,
        },
      });
      await this.outbox.append(
        m,
        orderEvent<OrderShippedPayload>(ORDER_EVENTS.shipped, {
          ...shipment,
          userId: order.userId,
          shippedAt: shippedAt.toISOString(),
          packages,
          ...(dto.sameCity ? { sameCity: true } : {}),
        }),
      );
      return order;
    });
  }

  /**
   * Parcels instead of one carrier/trackingNo, each item a product of the
   * order: anything else is a 400 (thrown inside the transaction, so the
   * order stays paid).
   */
  private async checkPackages(
    m: EntityManager,
    orderId: number,
    dto: ShipDto,
    packages: PackageDto[],
  ): Promise<ShippedPackage[]> {
    if (dto.carrier !== undefined || dto.trackingNo !== undefined) {
      throw validationError([
        { field: 'packages', message: 'give packages or carrier/trackingNo, not both' },
      ]);
    }
    const items = await m.find(OrderItem, { where: { orderId } });
    const inOrder = new Set(items.map((i) => i.productId));
    const unknown = packages.flatMap((p, i) =>
      (p.items ?? []).flatMap((item, j) =>
        inOrder.has(item.productId)
          ? []
          : [
              {
                field: `packages[${i}].items[${j}].productId`,
                message: `product ${item.productId} is not in the order`,
              },
            ],
      ),
    );
    if (unknown.length > 0) throw validationError(unknown);
    // A carrier's tracking number names one parcel: the same one twice is a mistake, not two.
    const repeated = packages.flatMap((p, i) =>
      packages.findIndex((o) => o.carrier === p.carrier && o.trackingNo === p.trackingNo) < i
        ? [{ field: `packages[${i}].trackingNo`, message: `${p.trackingNo} is given twice` }]
        : [],
    );
    if (repeated.length > 0) throw validationError(repeated);
    return packages.map((p) => ({
      carrier: p.carrier,
      trackingNo: p.trackingNo,
      productIds: p.items ? p.items.map((i) => i.productId) : null,
    }));
  }

  /** shipped → completed once ORDER_AUTO_COMPLETE_DAYS have passed; false if not (yet) due. */
  async complete(m: EntityManager, orderId: number): Promise<boolean> {
    const shipment = await m.findOneBy(OrderShipment, { orderId, packageIndex: 0 });
    if (!shipment || shipment.shippedAt.getTime() + this.autoCompleteMs > Date.now()) return false;
    return this.transitions.apply(m, {
      orderId,
      from: 'shipped',
      to: 'completed',
      actor: 'timer',
      reason: 'auto-complete',
    });
  }
}
