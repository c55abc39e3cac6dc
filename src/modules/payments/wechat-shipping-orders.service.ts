import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AppError } from '../../common/errors/index.js';
import { AuditLog } from '../../infra/audit/index.js';
import { Transactions } from '../../infra/transactions/index.js';
import { OrdersService } from '../orders/index.js';
import { WechatClient, type ShippingOrderState, type ShippingUpload } from '../wechat/index.js';
import { OrderPayment } from './order-payment.entity.js';
import { WechatSettlements } from './wechat-settlement.consumer.js';
import type {
  ReceiptReminderView,
  WechatReconcileView,
  WechatShippingState,
} from './wechat-shipping.view.js';
import { WechatPay } from './wechat-pay/index.js';

const STATE_NAMES: Record<ShippingOrderState, WechatShippingState> = {
  1: 'not_shipped',
  2: 'shipped',
  3: 'confirmed',
  4: 'settled',
  5: 'refunded',
  6: 'awaiting_settlement',
};

/**
 * Staff's calls to WeChat's order-shipping management about one order:
 * get_order, applying what a lost push would have (an order WeChat has
 * confirmed or settled while ours is still `shipped` becomes `completed`,
 * actor `wechat`, once), and notify_confirm_receive once the goods arrived.
 */
@Injectable()
export class WechatShippingOrders {
  constructor(
    @InjectRepository(OrderPayment) private readonly payments: Repository<OrderPayment>,
    @Inject(WechatClient) private readonly wechat: WechatClient,
    private readonly pay: WechatPay,
    private readonly orders: OrdersService,
    private readonly settlements: WechatSettlements,
    private readonly transactions: Transactions,
    private readonly audit: AuditLog,
  ) {}

  /** `staffId`: who asked; a completion it causes is a staff write, so it is audited. */
  async reconcile(orderId: number, staffId: number): Promise<WechatReconcileView> {
    await this.orders.orderOf(orderId);
    const state = await this.wechat.shippingOrderState(await this.orderKey(orderId));
    const completed =
      state === 3 || state === 4
        ? await this.transactions.run(async (m) => {
            const settled = await this.settlements.settle(
              m,
              orderId,
              `reconciled: WeChat says ${STATE_NAMES[state]}`,
            );
            if (settled) {
              await this.audit.record(m, {
                actorId: staffId,
                action: 'order.reconcile',
                target: `order:${orderId}`,
                before: { status: 'shipped' },
                after: { status: 'completed', wechatState: STATE_NAMES[state] },
              });
            }
            return settled;
          })
        : false;
    const order = await this.orders.orderOf(orderId);
    return {
      orderId,
      status: order.status,
      wechatState: state === null ? 'unknown_payment' : STATE_NAMES[state],
      completed,
    };
  }

  /** The buyer is reminded to confirm receipt; a `shipped` order only (else 409). */
  async remindReceipt(orderId: number): Promise<ReceiptReminderView> {
    const order = await this.orders.orderOf(orderId);
    if (order.status !== 'shipped') {
      throw new AppError('CONFLICT', `the order is ${order.status}, not shipped`);
    }
    const receivedAt = new Date();
    await this.wechat.notifyConfirmReceive(await this.orderKey(orderId), receivedAt);
    return { orderId, remindedAt: receivedAt.toISOString() };
  }

  /** How WeChat names the order: its WeChat Pay transaction, else mchid + out_trade_no. */
  private async orderKey(orderId: number): Promise<ShippingUpload['orderKey']> {
    const payment = await this.transactions.read((m) => m.findOneBy(OrderPayment, { orderId }));
    if (!payment) throw new AppError('CONFLICT', 'the order was not paid through WeChat Pay');
    return payment.transactionId
      ? { type: 2, transactionId: payment.transactionId }
      : { type: 1, mchid: this.pay.client.mchId, outTradeNo: payment.outTradeNo };
  }
}
