import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { ConsumerRegistry } from '../../infra/queue/index.js';
import {
  ORDER_EVENTS,
  type OrderPlacedPayload,
  type OrdersBatchPlacedPayload,
} from './order-events.js';
import { OrdersService } from './orders.service.js';

export const PAYMENT_TIMEOUT_QUEUE = 'orders.payment-timeout';
const SWEEP_BATCH = 100;
// The delayed job fires a little after payBefore, so it never finds the
// order "not due yet" because of rounding.
const JOB_MARGIN_MS = 50;

/**
 * Unpaid orders close on time. `order.placed` (committed with the order),
 * or `order.batch-placed` for a flash sale's batch, becomes a job delayed
 * until payBefore, which cancels the orders still pending
 * (`payment_timeout`, stock back). The sweeper, run by every
 * worker, closes what a lost job missed (Redis flushed): the guarantee
 * rests on the database, Redis only makes it prompt. Both go through the
 * same guarded UPDATE as a user cancel, so one of them wins.
 */
@Injectable()
export class PaymentTimeout implements OnModuleInit {
  private readonly sweepEveryMs: number;

  constructor(
    private readonly registry: ConsumerRegistry,
    private readonly orders: OrdersService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.sweepEveryMs = config.orders.sweepIntervalMs;
  }

  onModuleInit(): void {
    this.registry.register<OrderPlacedPayload | OrdersBatchPlacedPayload>({
      name: PAYMENT_TIMEOUT_QUEUE,
      events: [ORDER_EVENTS.placed, ORDER_EVENTS.batchPlaced],
      // Each event closes its own orders: nothing to keep in order.
      ordered: false,
      concurrency: 4,
      delayMs: (event) => Date.parse(event.payload.payBefore) - Date.now() + JOB_MARGIN_MS,
      // A batch's orders close in the job's one transaction, recorded as
      // processed with it: a retry after a failure finds the closed ones no
      // longer pending.
      handle: async (event, m, afterCommit) => {
        const { payload } = event;
        const closed =
          'orderIds' in payload
            ? await this.orders.expireAllWithin(m, payload.orderIds)
            : await this.orders.expireWithin(m, payload.orderId);
        if (closed === 'not_due') throw new Error('order is not due yet');
        if (closed && closed.length > 0) afterCommit(() => this.orders.stockChanged(closed));
      },
    });
    this.registry.registerTask({
      name: 'orders.payment-timeout-sweep',
      everyMs: this.sweepEveryMs,
      run: async () => {
        await this.sweep();
      },
    });
  }

  /** Closes pending orders overdue by more than one sweep interval (their job should have). */
  async sweep(): Promise<number> {
    let closed = 0;
    for (const id of await this.orders.overdue(this.sweepEveryMs, SWEEP_BATCH)) {
      if (await this.orders.expire(id)) closed++;
    }
    return closed;
  }
}
