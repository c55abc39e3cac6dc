import { Injectable } from '@nestjs/common';
import type { CancelReason, Order } from './order.entity.js';

/**
 * Runs before a pending order is cancelled, outside the cancelling
 * transaction (it may call out: the payment flow closes the order's WeChat
 * Pay transaction here, so it cannot be paid after). Throwing aborts the
 * cancel: a user cancel answers the error, a timeout is retried.
 */
export type BeforeCancelHook = (order: Order, reason: CancelReason) => Promise<void>;

/** The seam between order cancellation and the modules that must act first. */
@Injectable()
export class OrderCancelHooks {
  private readonly hooks: BeforeCancelHook[] = [];

  register(hook: BeforeCancelHook): void {
    this.hooks.push(hook);
  }

  async beforeCancel(order: Order, reason: CancelReason): Promise<void> {
    for (const hook of this.hooks) await hook(order, reason);
  }
}
