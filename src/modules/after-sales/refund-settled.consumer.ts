import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerRegistry } from '../../infra/queue/index.js';
import { ORDER_EVENTS, type OrderRefundedPayload } from '../orders/index.js';
import { AfterSalesService } from './after-sales.service.js';

export const AFTER_SALES_REFUNDS_QUEUE = 'after-sales.refund-settled';

/**
 * The refund engine's `order.refunded` closes the request whose refund it
 * was; its `order.refund-failed` puts the request back where staff decide
 * again. Idempotent twice over: the processed-event record, and the guarded
 * UPDATE from `refunding`.
 */
@Injectable()
export class RefundSettledConsumer implements OnModuleInit {
  constructor(
    private readonly registry: ConsumerRegistry,
    private readonly afterSales: AfterSalesService,
  ) {}

  onModuleInit(): void {
    this.registry.register<Pick<OrderRefundedPayload, 'orderId' | 'refundId'>>({
      name: AFTER_SALES_REFUNDS_QUEUE,
      events: [ORDER_EVENTS.refunded, ORDER_EVENTS.refundFailed],
      ordered: false,
      concurrency: 2,
      handle: async (event, m) => {
        // Events written before refunds carried their id belong to no request.
        const refundId = Number(event.payload.refundId);
        if (!Number.isInteger(refundId) || refundId < 1) return;
        if (event.type === ORDER_EVENTS.refunded) await this.afterSales.settled(m, refundId);
        else await this.afterSales.refundFailed(m, refundId);
      },
    });
  }
}
