import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { CancelReason, Order } from './order.entity.js';

/**
 * Runs before a pending order is cancelled, outside the cancelling
 * transaction (it may call out: the payment flow closes the order's WeChat
 * Pay transaction here, so it cannot be paid after). Throwing aborts the
 * cancel: a user cancel answers the error, a timeout is retried. `m` is the
 * transaction the cancel will run in when one is already open (the
 * payment-timeout job's): database work of the hook must go through it, as
 * a second transaction would wait for it (the embedded engine has one
 * connection).
 */
export type BeforeCancelHook = (
  order: Order,
  reason: CancelReason,
  m?: EntityManager,
) => Promise<void>;

/** The seam between order cancellation and the modules that must act first. */
@Injectable()
export class OrderCancelHooks {
  private readonly hooks: BeforeCancelHook[] = [];

  register(hook: BeforeCancelHook): void {
    this.hooks.push(hook);
  }

  async beforeCancel(order: Order, reason: CancelReason, m?: EntityManager): Promise<void> {
    for (const hook of this.hooks) await hook(order, reason, m);
  }
}
