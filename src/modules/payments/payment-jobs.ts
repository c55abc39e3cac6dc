import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { ConsumerRegistry } from '../../infra/queue/index.js';
import { Transactions } from '../../infra/transactions/index.js';
import {
  ORDER_EVENTS,
  Order,
  OrderCancelHooks,
  OrderShipment,
  OrdersService,
} from '../orders/index.js';
import { FulfilmentService, type OrderShippedPayload } from './fulfilment.service.js';
import { OrderPayment } from './order-payment.entity.js';
import {
  PAYMENT_EVENTS,
  type PrepaidPayload,
  type RefundRequestedPayload,
} from './payment-events.js';
import { PaymentsService } from './payments.service.js';
import { RefundsService } from './refunds.service.js';

const SWEEP_BATCH = 100;

/** A job that ran before it was due (clock skew between replicas): retried later. */
class NotDueYet extends Error {}

/**
 * The payment flow's background work, all fed by the outbox: the refund
 * call, the reconcile query after a prepay, the auto-completion after
 * shipping; and the close of the WeChat Pay order before any cancel.
 *
 * The reconcile and auto-complete jobs are delayed jobs, kept in Redis: two
 * sweepers, run where background work runs, read the database for what a
 * lost job missed, so neither guarantee rests on Redis keeping its data.
 * They go through the same calls as the jobs (the guarded transaction_id
 * write, the guarded shipped → completed UPDATE), so a job and a sweep that
 * meet on one order apply it once.
 */
@Injectable()
export class PaymentJobs implements OnModuleInit {
  private readonly reconcileAfterMs: number;
  private readonly sweepEveryMs: number;

  constructor(
    private readonly registry: ConsumerRegistry,
    private readonly cancelHooks: OrderCancelHooks,
    private readonly orders: OrdersService,
    private readonly payments: PaymentsService,
    private readonly refunds: RefundsService,
    private readonly fulfilment: FulfilmentService,
    private readonly transactions: Transactions,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.reconcileAfterMs = config.reconcileAfterMs;
    this.sweepEveryMs = config.orders.sweepIntervalMs;
  }

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
      delayMs: () => this.reconcileAfterMs,
      handle: async (event, m) => {
        // A lost notification must not leave a paid order pending.
        const order = await this.orders.findWithin(m, event.payload.orderId);
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
        const order = await this.orders.findWithin(m, event.payload.orderId);
        if (order?.status !== 'shipped') return;
        if (!(await this.fulfilment.complete(m, order.id))) throw new NotDueYet('not due yet');
      },
    });

    // Every pending order past its reconcile time is asked once per period
    // (until it is paid or closes at payBefore), not once per order sweep.
    this.registry.registerTask({
      name: 'payments.reconcile-sweep',
      everyMs: this.reconcileAfterMs,
      run: async () => {
        await this.reconcileSweep();
      },
    });
    this.registry.registerTask({
      name: 'payments.auto-complete-sweep',
      everyMs: this.sweepEveryMs,
      run: async () => {
        await this.autoCompleteSweep();
      },
    });
  }

  /**
   * Asks WeChat Pay about pending orders prepaid over twice the reconcile
   * delay ago (their job should have asked); returns how many it found paid.
   */
  async reconcileSweep(): Promise<number> {
    const before = new Date(Date.now() - 2 * this.reconcileAfterMs);
    const rows: { id: number }[] = await this.transactions.run((m) =>
      m
        .createQueryBuilder(OrderPayment, 'p')
        .innerJoin(Order, 'o', 'o.id = p.orderId')
        .select('p.orderId', 'id')
        .where('o.status = :pending', { pending: 'pending' })
        .andWhere('p.prepayId IS NOT NULL')
        .andWhere('p.createdAt < :before', { before })
        .orderBy('p.createdAt', 'ASC')
        .limit(SWEEP_BATCH)
        .getRawMany(),
    );
    let paid = 0;
    for (const { id } of rows) {
      if ((await this.payments.confirmWithWechat(Number(id))) === 'paid') paid++;
    }
    return paid;
  }

  /** Completes shipped orders overdue by more than one sweep interval (their job should have). */
  async autoCompleteSweep(): Promise<number> {
    const due = new Date(Date.now() - this.fulfilment.autoCompleteMs - this.sweepEveryMs);
    const rows: { id: number }[] = await this.transactions.run((m) =>
      m
        .createQueryBuilder(OrderShipment, 's')
        .innerJoin(Order, 'o', 'o.id = s.orderId')
        .select('s.orderId', 'id')
        .where('o.status = :shipped', { shipped: 'shipped' })
        // An order's first package: one row an order, however many it went out in.
        .andWhere('s.packageIndex = 0')
        .andWhere('s.shippedAt < :due', { due })
        .orderBy('s.shippedAt', 'ASC')
        .limit(SWEEP_BATCH)
        .getRawMany(),
    );
    let completed = 0;
    for (const { id } of rows) {
      if (await this.transactions.run((m) => this.fulfilment.complete(m, Number(id)))) completed++;
    }
    return completed;
  }
}
