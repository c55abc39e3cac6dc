import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConsumerRegistry } from '../../infra/queue/index.js';
import { ORDER_EVENTS, Order, OrderCancelHooks } from '../orders/index.js';
import { FulfilmentService, type OrderShippedPayload } from './fulfilment.service.js';
import {
  PAYMENT_EVENTS,
  type PrepaidPayload,
  type RefundRequestedPayload,
} from './payment-events.js';
import { PaymentsService } from './payments.service.js';
import { RefundsService } from './refunds.service.js';

/** The reconcile job asks WeChat Pay this long after a prepay if the order is still pending. */
export const RECONCILE_AFTER_MS = 3 * 60_000;

/** A job that ran before it was due (clock skew between replicas): retried later. */
class NotDueYet extends Error {}

/**
 * The payment flow's background work, all fed by the outbox: the refund
 * call, the reconcile query after a prepay, the auto-completion after
 * shipping; and the close of the WeChat Pay order before any cancel.
 */
@Injectable()
export class PaymentJobs implements OnModuleInit {
  constructor(
    private readonly registry: ConsumerRegistry,
    private readonly cancelHooks: OrderCancelHooks,
    private readonly payments: PaymentsService,
    private readonly refunds: RefundsService,
    private readonly fulfilment: FulfilmentService,
  ) {}

  onModuleInit(): void {
    this.cancelHooks.register((order, _reason, m) => this.payments.closeBeforeCancel(order, m));

    this.registry.register<RefundRequestedPayload>({
      name: 'payments.refund',
      events: [PAYMENT_EVENTS.refundRequested],
      concurrency: 4,
      handle: (event, m) => this.refunds.send(m, event.payload.refundId),
    });

    this.registry.register<PrepaidPayload>({
      name: 'payments.reconcile',
      events: [PAYMENT_EVENTS.prepaid],
      concurrency: 4,
      delayMs: () => RECONCILE_AFTER_MS,
      handle: async (event, m) => {
        // A lost notification must not leave a paid order pending.
        const order = await m.findOneBy(Order, { id: event.payload.orderId });
        if (order?.status === 'pending') await this.payments.confirmWithWechat(order.id, m);
      },
    });

    this.registry.register<OrderShippedPayload>({
      name: 'payments.auto-complete',
      events: [ORDER_EVENTS.shipped],
      delayMs: (event) =>
        Math.max(
          0,
          Date.parse(event.payload.shippedAt) + this.fulfilment.autoCompleteMs - Date.now(),
        ),
      handle: async (event, m) => {
        const order = await m.findOneBy(Order, { id: event.payload.orderId });
        if (order?.status !== 'shipped') return;
        if (!(await this.fulfilment.complete(m, order.id))) throw new NotDueYet('not due yet');
      },
    });
  }
}
