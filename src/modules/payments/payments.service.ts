import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { AppError } from '../../common/errors/index.js';
import { ConsistencyService } from '../../infra/consistency/index.js';
import { OutboxWriter } from '../../infra/queue/index.js';
import { Transactions, isDuplicateKey } from '../../infra/transactions/index.js';
import {
  ORDER_EVENTS,
  OrderTransitions,
  OrdersService,
  type OrderDeliveredPayload,
  orderEvent,
  type Order,
} from '../orders/index.js';
import { UsersService } from '../users/index.js';
import { OrderPayment } from './order-payment.entity.js';
import { PAYMENT_EVENTS, paymentEvent, type PrepaidPayload } from './payment-events.js';
import { PaymentMetrics } from './payment-metrics.js';
import { RefundsService } from './refunds.service.js';
import { orderIdOf, outTradeNoOf } from './trade-numbers.js';
import {
  WechatPay,
  WechatPayError,
  type JsapiPayParams,
  type PayTransaction,
} from './wechat-pay/index.js';

/** A prepay is reused until this long before it expires (the user needs time to pay). */
const PREPAY_REUSE_MARGIN_MS = 60_000;
/** WeChat Pay's prepay_id lives 2 hours. */
const PREPAY_LIFETIME_MS = 2 * 3600_000;

/** What applying a transaction did. `mismatch`: it does not belong to the order it names. */
export type ApplyOutcome = 'paid' | 'duplicate' | 'refund_started' | 'not_paid' | 'mismatch';

/**
 * Payments of orders: the prepay, and the one place where a WeChat Pay
 * transaction (from a notification, a confirm, the reconcile job or a close
 * that found the order paid) becomes a `paid` order, exactly once.
 */
@Injectable()
export class PaymentsService {
  private readonly logger = new Logger('Payments');

  constructor(
    private readonly pay: WechatPay,
    private readonly transactions: Transactions,
    private readonly outbox: OutboxWriter,
    private readonly consistency: ConsistencyService,
    private readonly refunds: RefundsService,
    private readonly metrics: PaymentMetrics,
    private readonly orders: OrdersService,
    private readonly transitions: OrderTransitions,
    private readonly users: UsersService,
    @InjectRepository(OrderPayment) private readonly payments: Repository<OrderPayment>,
  ) {}

  /** `wx.requestPayment` parameters for a pending order of the user; the prepay is reused while valid. */
  async payParams(userId: number, orderId: number): Promise<JsapiPayParams> {
    const client = this.pay.client;
    const order = await this.ownPendingOrder(userId, orderId);
    const now = Date.now();
    const earlier = await this.primary(() => this.payments.findOneBy({ orderId }));
    if (
      earlier?.prepayId &&
      (earlier.prepayExpiresAt?.getTime() ?? 0) - PREPAY_REUSE_MARGIN_MS > now
    ) {
      return client.payParams(earlier.prepayId);
    }
    const openid = await this.primary(() => this.users.openidOf(userId));
    const outTradeNo = outTradeNoOf(orderId);
    let prepayId: string;
    try {
      prepayId = await client.prepay({
        outTradeNo,
        description: `Order ${orderId}`,
        totalCents: order.totalCents,
        openid,
        expiresAt: order.payBefore,
      });
    } catch (err) {
      if (err instanceof WechatPayError && err.payCode === 'ORDERPAID') {
        await this.confirmWithWechat(orderId);
        throw new AppError('CONFLICT', 'the order is already paid');
      }
      if (err instanceof WechatPayError && err.payCode === 'ORDER_CLOSED') {
        throw new AppError('CONFLICT', 'the order can no longer be paid');
      }
      throw err;
    }
    const expiresAt = new Date(Math.min(now + PREPAY_LIFETIME_MS, order.payBefore.getTime()));
    const stillPending = await this.transactions.run(async (m) => {
      await this.recordPrepay(m, orderId, outTradeNo, prepayId, expiresAt);
      return (await this.orders.findWithin(m, orderId))?.status === 'pending';
    });
    if (!stillPending) {
      // Cancelled while we prepaid: close the new WeChat order so it cannot be
      // paid (a payment that slips through is refunded automatically).
      await this.closeOrRead(orderId);
      throw new AppError('CONFLICT', 'only a pending order can be paid');
    }
    return client.payParams(prepayId);
  }

  /** Asks WeChat Pay about the user's pending order and applies the answer. */
  async confirm(userId: number, orderId: number): Promise<void> {
    this.pay.assertEnabled();
    const order = await this.orders.ownOrder(userId, orderId);
    if (order.status === 'pending') await this.confirmWithWechat(orderId);
  }

  /**
   * Queries WeChat Pay for the order and applies a payment it reports,
   * through `m` when the caller already holds a transaction (a job).
   */
  async confirmWithWechat(orderId: number, m?: EntityManager): Promise<ApplyOutcome> {
    const tx = await this.pay.client.queryTransaction(outTradeNoOf(orderId));
    return tx ? this.apply(tx, 'query', m) : 'not_paid';
  }

  /**
   * Before a pending order is cancelled (by its user, an admin or the
   * payment timeout): close its WeChat Pay order so it can no longer be paid.
   * If WeChat Pay says it was paid meanwhile, the payment is applied instead,
   * and the cancel then finds the order `paid` and does nothing.
   */
  async closeBeforeCancel(order: Order, m?: EntityManager): Promise<void> {
    if (!this.pay.enabled) return;
    const prepaid = await (m
      ? m.findOneBy(OrderPayment, { orderId: order.id })
      : this.primary(() => this.payments.findOneBy({ orderId: order.id })));
    // Never prepaid: nothing at WeChat Pay to close. A prepay racing with
    // this cancel closes itself (payParams) or is refunded if paid.
    if (!prepaid) return;
    await this.closeOrRead(order.id, m);
  }

  /**
   * Applies a transaction WeChat Pay reported. The money is recorded once
   * (guarded on transaction_id IS NULL), then the order goes pending → paid.
   * If the order was cancelled first, the payment is refunded automatically
   * and the order stays cancelled.
   */
  async apply(
    tx: PayTransaction,
    source: 'notify' | 'query' | 'close',
    m?: EntityManager,
  ): Promise<ApplyOutcome> {
    const outcome = await this.applyOnce(tx, source, m);
    this.metrics.applied(source, outcome);
    if (outcome === 'mismatch') {
      this.logger.warn(`transaction ${tx.outTradeNo} does not match its order (${source})`);
    }
    return outcome;
  }

  private async applyOnce(
    tx: PayTransaction,
    source: 'notify' | 'query' | 'close',
    within?: EntityManager,
  ): Promise<ApplyOutcome> {
    const client = this.pay.client;
    const orderId = orderIdOf(tx.outTradeNo);
    if (orderId === null || tx.appid !== client.appId || tx.mchid !== client.mchId)
      return 'mismatch';
    if (tx.tradeState !== 'SUCCESS' && tx.tradeState !== 'REFUND') return 'not_paid';
    const work = async (m: EntityManager): Promise<ApplyOutcome> => {
      // Locked: appliers of one order, and its cancels, take turns on the row.
      const order = await this.transitions.lock(m, orderId);
      if (!order || tx.totalCents !== order.totalCents || !tx.transactionId) return 'mismatch';
      const recorded = await this.recordPayment(m, orderId, tx);
      if (recorded !== 'recorded') return recorded;
      const paid = await this.transitions.apply(m, {
        orderId,
        from: 'pending',
        to: 'paid',
        actor: 'payment',
        reason: `WeChat Pay ${source}`,
      });
      if (paid) {
        await this.outbox.append(
          m,
          orderEvent(ORDER_EVENTS.paid, {
            orderId,
            userId: order.userId,
            totalCents: order.totalCents,
          }),
        );
        await this.deliverIfVirtual(m, orderId, order.userId);
        return 'paid';
      }
      // The row is locked: its status is the current one, not a snapshot.
      if (order.status === 'cancelled') {
        await this.refunds.startAutomatic(m, order, tx.totalCents as number);
        return 'refund_started';
      }
      return 'duplicate';
    };
    return within ? work(within) : this.transactions.run(work);
  }

  /**
   * An order of only virtual goods is delivered by its payment: paid →
   * completed in the payment's transaction, and `order.delivered` has the
   * shipping upload tell WeChat (logistics_type 3, virtual delivery).
   */
  private async deliverIfVirtual(m: EntityManager, orderId: number, userId: number): Promise<void> {
    if (!(await this.orders.isVirtualOnly(m, orderId))) return;
    const completed = await this.transitions.apply(m, {
      orderId,
      from: 'paid',
      to: 'completed',
      actor: 'payment',
      reason: 'virtual goods delivered',
    });
    if (completed) {
      await this.outbox.append(
        m,
        orderEvent<OrderDeliveredPayload>(ORDER_EVENTS.delivered, { orderId, userId }),
      );
    }
  }

  /** Writes the payment once: 'recorded' for the first writer of this transaction. */
  private async recordPayment(
    m: EntityManager,
    orderId: number,
    tx: PayTransaction,
  ): Promise<'recorded' | 'duplicate' | 'mismatch'> {
    const paid = {
      transactionId: tx.transactionId,
      paidCents: tx.totalCents,
      paidAt: tx.successTime ? new Date(tx.successTime) : new Date(),
    };
    // The order row is locked (lockOrder), so this read is current.
    const row = await m.findOneBy(OrderPayment, { orderId });
    if (!row) {
      // Paid without a prepay row of ours (its writer failed after the
      // prepay): the row is made here.
      await m.insert(OrderPayment, { orderId, outTradeNo: tx.outTradeNo, ...paid });
      return 'recorded';
    }
    if (row.transactionId) return row.transactionId === tx.transactionId ? 'duplicate' : 'mismatch';
    const updated = await m
      .createQueryBuilder()
      .update(OrderPayment)
      .set(paid)
      .where('order_id = :orderId AND transaction_id IS NULL', { orderId })
      .execute();
    return updated.affected === 1 ? 'recorded' : 'duplicate';
  }

  private async recordPrepay(
    m: EntityManager,
    orderId: number,
    outTradeNo: string,
    prepayId: string,
    prepayExpiresAt: Date,
  ): Promise<void> {
    // Insert first: the first prepay of an order has no row yet, and an
    // UPDATE of a missing row would take a gap lock that concurrent inserts
    // of other orders deadlock on.
    try {
      await m.insert(OrderPayment, { orderId, outTradeNo, prepayId, prepayExpiresAt });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await m
        .createQueryBuilder()
        .update(OrderPayment)
        .set({ prepayId, prepayExpiresAt })
        .where('order_id = :orderId AND transaction_id IS NULL', { orderId })
        .execute();
      return;
    }
    await this.outbox.append(m, paymentEvent<PrepaidPayload>(PAYMENT_EVENTS.prepaid, { orderId }));
  }

  /** Closes the order's WeChat Pay order; if it was paid, applies the payment. */
  private async closeOrRead(orderId: number, m?: EntityManager): Promise<void> {
    const outTradeNo = outTradeNoOf(orderId);
    try {
      await this.pay.client.close(outTradeNo);
    } catch (err) {
      if (!(err instanceof WechatPayError) || err.outcome !== 'refused') throw err;
      if (err.payCode === 'ORDER_NOT_EXIST') return;
      if (err.payCode !== 'ORDERPAID') throw err;
      await this.confirmWithWechat(orderId, m);
    }
  }

  private async ownPendingOrder(userId: number, orderId: number): Promise<Order> {
    const order = await this.orders.ownOrder(userId, orderId);
    if (order.status !== 'pending') {
      throw new AppError('CONFLICT', `only a pending order can be paid (it is ${order.status})`);
    }
    if (order.payBefore.getTime() <= Date.now()) {
      throw new AppError('CONFLICT', 'the payment window of this order has closed');
    }
    await this.orders.requireAddress(order);
    return order;
  }

  private primary<T>(read: () => Promise<T>): Promise<T> {
    return this.consistency.primaryReads(read);
  }
}
