import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppError } from '../../common/errors/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { OutboxWriter } from '../../infra/queue/index.js';
import { Transactions } from '../../infra/transactions/index.js';
import {
  ORDER_EVENTS,
  OrderTransitions,
  OrdersService,
  orderEvent,
  type Order,
} from '../orders/index.js';
import { OrderShipment } from './order-shipment.entity.js';
import type { ShipDto } from './payments.dto.js';

export interface OrderShippedPayload {
  orderId: number;
  userId: number;
  carrier: string | null;
  trackingNo: string | null;
  /** ISO 8601: starts the ORDER_AUTO_COMPLETE_DAYS clock. */
  shippedAt: string;
}

/** Shipping (paid → shipped) and the automatic completion that follows it. */
@Injectable()
export class FulfilmentService {
  readonly autoCompleteMs: number;

  constructor(
    private readonly transactions: Transactions,
    private readonly outbox: OutboxWriter,
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
  async ship(orderId: number, dto: ShipDto, staffId?: number): Promise<Order> {
    return this.transactions.run(async (m) => {
      const order = await this.orders.findWithin(m, orderId);
      if (!order) throw new AppError('NOT_FOUND', 'order not found');
      const shipped = await this.transitions.apply(m, {
        orderId,
        from: 'paid',
        to: 'shipped',
        actor: 'staff',
        actorId: staffId ?? null,
        reason: dto.carrier ?? null,
      });
      if (!shipped) {
        throw new AppError('CONFLICT', `only a paid order can be shipped (it is ${order.status})`);
      }
      const shippedAt = new Date();
      const shipment = {
        orderId,
        carrier: dto.carrier ?? null,
        trackingNo: dto.trackingNo ?? null,
        shippedAt,
      };
      await m.insert(OrderShipment, shipment);
      await this.outbox.append(
        m,
        orderEvent<OrderShippedPayload>(ORDER_EVENTS.shipped, {
          ...shipment,
          userId: order.userId,
          shippedAt: shippedAt.toISOString(),
        }),
      );
      return order;
    });
  }

  /** shipped → completed once ORDER_AUTO_COMPLETE_DAYS have passed; false if not (yet) due. */
  async complete(m: EntityManager, orderId: number): Promise<boolean> {
    const shipment = await m.findOneBy(OrderShipment, { orderId });
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
