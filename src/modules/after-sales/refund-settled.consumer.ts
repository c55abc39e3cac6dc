import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerRegistry } from '../../infra/queue/index.js';
import { ORDER_EVENTS, type OrderRefundedPayload } from '../orders/index.js';
import { AfterSalesService } from './after-sales.service.js';

export const AFTER_SALES_REFUNDS_QUEUE = 'after-sales.refund-settled';

/**
 * The refund engine's `order.refunded` closes the request whose refund it
 * was. Idempotent twice over: the processed-event record, and the guarded
 * `refunding → refunded` UPDATE.
 */
@Injectable()
export class RefundSettledConsumer implements OnModuleInit {
  constructor(
    private readonly registry: ConsumerRegistry,
    private readonly afterSales: AfterSalesService,
  ) {}

  onModuleInit(): void {
    this.registry.register<OrderRefundedPayload>({
      name: AFTER_SALES_REFUNDS_QUEUE,
      events: [ORDER_EVENTS.refunded],
      ordered: false,
      concurrency: 2,
      handle: async (event, m) => {
        // Events written before refunds carried their id belong to no request.
        const refundId = Number(event.payload.refundId);
        if (Number.isInteger(refundId) && refundId > 0) await this.afterSales.settled(m, refundId);
      },
    });
  }
}
