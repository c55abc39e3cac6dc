import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { ConsumerRegistry, type DeliveredEvent } from '../../infra/queue/index.js';
import { OrderTransitions } from '../orders/index.js';
import { WECHAT_PUSH_EVENTS, type WechatPushPayload } from '../wechat-push/index.js';
import { orderIdOf } from './trade-numbers.js';

export const WECHAT_SETTLEMENT_QUEUE = 'payments.wechat-settlement';

/** A time WeChat gives (Unix seconds, a number in JSON, text in XML); absent, 0 or '' is none. */
function timeField(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null;
}

/**
 * WeChat's order-shipping service settles an order (releases the shop's
 * money) once the buyer confirmed receipt or its own deadline passed, and
 * pushes `trade_manage_order_settlement`: the order, named by
 * merchant_trade_no (our out_trade_no), becomes `completed`, once. The same
 * event sent at shipping carries only estimated_settlement_time: it is
 * recorded (by the push server) and changes nothing here.
 */
@Injectable()
export class WechatSettlements implements OnModuleInit {
  private readonly logger = new Logger('WechatSettlement');

  constructor(
    private readonly registry: ConsumerRegistry,
    private readonly transitions: OrderTransitions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    // No push server, no such events: no queue that would only wait.
    if (!this.config.wechatPush) return;
    this.registry.register<WechatPushPayload>({
      name: WECHAT_SETTLEMENT_QUEUE,
      events: [WECHAT_PUSH_EVENTS.orderSettlement],
      ordered: false,
      concurrency: 4,
      handle: (event, m) => this.handle(event, m),
    });
  }

  private async handle(event: DeliveredEvent<WechatPushPayload>, m: EntityManager): Promise<void> {
    const f = event.payload.fields;
    const settledAt = timeField(f.settlement_time) ?? timeField(f.confirm_receive_time);
    if (settledAt === null) return;
    const tradeNo = typeof f.merchant_trade_no === 'string' ? f.merchant_trade_no : '';
    const orderId = orderIdOf(tradeNo);
    if (orderId === null) {
      this.logger.warn(
        `settlement of an order that is not ours (push message ${event.payload.messageId})`,
      );
      return;
    }
    const byBuyer = f.confirm_receive_method === 1 || f.confirm_receive_method === '1';
    await this.settle(
      m,
      orderId,
      byBuyer ? 'buyer confirmed receipt in WeChat' : 'settled by WeChat',
    );
  }

  /**
   * shipped → completed by WeChat's word, in `m`'s transaction; false when
   * the order is not shipped (completed already by the timer or an earlier
   * settlement, or refunded meanwhile: left as it is).
   */
  async settle(m: EntityManager, orderId: number, reason: string): Promise<boolean> {
    const order = await this.transitions.lock(m, orderId);
    if (order?.status !== 'shipped') {
      if (order && order.status !== 'completed') {
        this.logger.warn(`order ${orderId} settled by WeChat while ${order.status}: left as it is`);
      }
      return false;
    }
    return this.transitions.apply(m, {
      orderId,
      from: 'shipped',
      to: 'completed',
      actor: 'wechat',
      reason,
    });
  }
}
