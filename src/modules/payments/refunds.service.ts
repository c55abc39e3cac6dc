import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { AppError } from '../../common/errors/index.js';
import { AuditLog } from '../../infra/audit/index.js';
import { ConsistencyService } from '../../infra/consistency/index.js';
import { OutboxWriter } from '../../infra/queue/index.js';
import { Transactions, isDuplicateKey } from '../../infra/transactions/index.js';
import {
  ORDER_EVENTS,
  OrderTransitions,
  orderEvent,
  type Order,
  type OrderRefundFailedPayload,
  type OrderRefundedPayload,
  type OrderStatus,
} from '../orders/index.js';
import { OrderPayment } from './order-payment.entity.js';
import { OrderRefund, type RefundState } from './order-refund.entity.js';
import { PAYMENT_EVENTS, paymentEvent, type RefundRequestedPayload } from './payment-events.js';
import type { RefundDto } from './payments.dto.js';
import { newOutRefundNo, outTradeNoOf } from './trade-numbers.js';
import { WechatPay, WechatPayError, type PayRefund } from './wechat-pay/index.js';

/** The Idempotency-Key of the refund made when a payment reaches a cancelled order. */
const AUTOMATIC_KEY = 'automatic:paid-after-cancel';
const REFUNDABLE: readonly OrderStatus[] = ['paid', 'shipped'];
// After-sales reach completed orders too (within AFTER_SALES_DAYS, checked by after-sales).
const AFTER_SALES_REFUNDABLE: readonly OrderStatus[] = ['paid', 'shipped', 'completed'];
const OPEN: readonly RefundState[] = ['requested', 'processing'];

export type RefundOutcome = 'settled' | 'closed' | 'processing' | 'duplicate' | 'mismatch';

const refundHash = (dto: RefundDto) =>
  createHash('sha256')
    .update(JSON.stringify([dto.amountCents ?? null, dto.reason ?? null]))
    .digest('hex');

/**
 * Refunds: written as a row (with its out_refund_no) and an outbox event in
 * one transaction; the refund job asks WeChat Pay (same out_refund_no on
 * every retry); WeChat Pay's answer or notification settles it once.
 */
@Injectable()
export class RefundsService {
  private readonly logger = new Logger('Refunds');

  constructor(
    private readonly pay: WechatPay,
    private readonly transactions: Transactions,
    private readonly outbox: OutboxWriter,
    private readonly audit: AuditLog,
    private readonly consistency: ConsistencyService,
    private readonly transitions: OrderTransitions,
    @InjectRepository(OrderRefund) private readonly refunds: Repository<OrderRefund>,
  ) {}

  /**
   * An admin's refund of a paid or shipped order: at most what was paid minus
   * earlier refunds (default: all of it). The same Idempotency-Key with the
   * same body is the same refund; with another body, 409. `staffId`: who asked.
   */
  async request(orderId: number, key: string, dto: RefundDto, staffId: number): Promise<void> {
    this.pay.assertEnabled();
    const hash = refundHash(dto);
    const earlier = await this.byKey(orderId, key);
    if (earlier) return this.replay(earlier, hash);
    try {
      await this.transactions.run(async (m) => {
        const started = await this.begin(m, orderId, REFUNDABLE, {
          key,
          hash,
          amountCents: dto.amountCents,
          reason: dto.reason ?? null,
          staffId,
        });
        await this.audit.record(m, {
          actorId: staffId,
          action: 'order.refund',
          target: `order:${orderId}`,
          before: { status: started.from, refundedCents: started.refundedCents },
          after: {
            status: 'refunding',
            amountCents: started.amountCents,
            reason: dto.reason ?? null,
          },
        });
      });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const winner = await this.byKey(orderId, key);
      if (!winner) throw err;
      return this.replay(winner, hash);
    }
  }

  /**
   * An after-sales refund, inside the caller's transaction (the staff
   * decision and its audit row commit with it): the same checks, the same
   * refund row and job as an admin's refund, on a completed order too.
   * `key` is the after-sales request's own, so it cannot start twice.
   * Returns the refund's id, which the settled refund's `order.refunded`
   * event carries.
   */
  async startWithin(
    m: EntityManager,
    orderId: number,
    refund: { key: string; amountCents: number; reason: string; staffId: number },
  ): Promise<number> {
    this.pay.assertEnabled();
    const hash = refundHash({ amountCents: refund.amountCents, reason: refund.reason });
    const started = await this.begin(m, orderId, AFTER_SALES_REFUNDABLE, { ...refund, hash });
    return started.refundId;
  }

  /** What is left to refund of an order: paid minus what was already refunded. */
  async refundableCents(m: EntityManager, order: Order): Promise<number> {
    const payment = await m.findOneBy(OrderPayment, { orderId: order.id });
    return Math.max(0, (payment?.paidCents ?? 0) - order.refundedCents);
  }

  /**
   * The one way a refund starts: the order locked (what is left to refund
   * is computed from the current row), `from` → refunding by a guarded
   * transition, the refund row and its job's event.
   */
  private async begin(
    m: EntityManager,
    orderId: number,
    allowed: readonly OrderStatus[],
    r: { key: string; hash: string; amountCents?: number; reason: string | null; staffId: number },
  ): Promise<{ from: OrderStatus; refundedCents: number; amountCents: number; refundId: number }> {
    const order = await this.transitions.lock(m, orderId);
    if (!order) throw new AppError('NOT_FOUND', 'order not found');
    if (!allowed.includes(order.status)) {
      throw new AppError(
        'CONFLICT',
        `only a ${allowed.join(' or ')} order can be refunded (it is ${order.status})`,
      );
    }
    const left = await this.refundableCents(m, order);
    const amount = r.amountCents ?? left;
    if (amount < 1 || amount > left) {
      throw new AppError('CONFLICT', `at most ${left} cents are left to refund`, {
        refundableCents: left,
      });
    }
    const started = await this.transitions.apply(m, {
      orderId,
      from: order.status,
      to: 'refunding',
      actor: 'staff',
      actorId: r.staffId,
      reason: r.reason ?? `refund of ${amount} cents`,
    });
    if (!started) {
      throw new AppError('CONFLICT', 'the order changed meanwhile; try again');
    }
    const refundId = await this.write(m, orderId, r.key, r.hash, amount, r.reason, order.status);
    return {
      from: order.status,
      refundedCents: order.refundedCents,
      amountCents: amount,
      refundId,
    };
  }

  /** Inside the transaction that found a payment on a cancelled order: refund all of it. */
  async startAutomatic(m: EntityManager, order: Order, paidCents: number): Promise<void> {
    await this.write(
      m,
      order.id,
      AUTOMATIC_KEY,
      AUTOMATIC_KEY,
      paidCents,
      'order cancelled',
      'cancelled',
    );
  }

  /**
   * The refund job: asks WeChat Pay for the refund (idempotent there by
   * out_refund_no) and applies the answer through the job's transaction.
   * Upstream failures throw, so the job is retried.
   */
  async send(m: EntityManager, refundId: number): Promise<void> {
    const row = await m.findOneBy(OrderRefund, { id: refundId });
    if (!row || !OPEN.includes(row.state)) return;
    const payment = await m.findOneByOrFail(OrderPayment, { orderId: row.orderId });
    let answer: PayRefund;
    try {
      answer = await this.pay.client.refund({
        outTradeNo: outTradeNoOf(row.orderId),
        outRefundNo: row.outRefundNo,
        refundCents: row.amountCents,
        totalCents: payment.paidCents ?? 0,
        reason: row.reason ?? undefined,
      });
    } catch (err) {
      if (!(err instanceof WechatPayError) || err.outcome !== 'refused') throw err;
      // A verified refusal (NOT_ENOUGH, a closed account…) will not change on retry.
      this.logger.warn(`refund ${row.outRefundNo} refused: ${err.payCode ?? 'no code'}`);
      await this.finish(m, row, 'abnormal', null);
      return;
    }
    await this.applyWith(m, answer);
  }

  /** A refund WeChat Pay reported (notification or query), applied in a transaction of its own. */
  apply(refund: PayRefund): Promise<RefundOutcome> {
    return this.transactions.run((m) => this.applyWith(m, refund));
  }

  private async applyWith(m: EntityManager, refund: PayRefund): Promise<RefundOutcome> {
    const row = await m.findOneBy(OrderRefund, { outRefundNo: refund.outRefundNo });
    if (
      !row ||
      row.amountCents !== refund.refundCents ||
      outTradeNoOf(row.orderId) !== refund.outTradeNo
    ) {
      this.logger.warn(`refund ${refund.outRefundNo} does not match a refund of ours`);
      return 'mismatch';
    }
    switch (refund.status) {
      case 'PROCESSING': {
        await m
          .createQueryBuilder()
          .update(OrderRefund)
          .set({ state: 'processing', refundId: refund.refundId })
          .where('id = :id AND state = :requested', { id: row.id, requested: 'requested' })
          .execute();
        return 'processing';
      }
      case 'SUCCESS':
        return (await this.finish(m, row, 'success', refund.refundId)) ? 'settled' : 'duplicate';
      default:
        return (await this.finish(
          m,
          row,
          refund.status === 'CLOSED' ? 'closed' : 'abnormal',
          refund.refundId,
        ))
          ? 'closed'
          : 'duplicate';
    }
  }

  /** The refund's one final transition, and the order's with it. False when already final. */
  private async finish(
    m: EntityManager,
    row: OrderRefund,
    state: Exclude<RefundState, 'requested' | 'processing'>,
    refundId: string | null,
  ): Promise<boolean> {
    const changed = await m
      .createQueryBuilder()
      .update(OrderRefund)
      .set({ state, ...(refundId ? { refundId } : {}) })
      .where('id = :id AND state IN (:...open)', { id: row.id, open: OPEN })
      .execute();
    if (changed.affected !== 1) return false;
    const resume = row.resumeStatus as OrderStatus;
    if (state !== 'success') {
      if (resume !== 'cancelled') {
        await this.transitions.apply(m, {
          orderId: row.orderId,
          from: 'refunding',
          to: resume,
          actor: 'refund',
          reason: `refund ${state}`,
        });
      }
      await this.outbox.append(
        m,
        orderEvent<OrderRefundFailedPayload>(ORDER_EVENTS.refundFailed, {
          orderId: row.orderId,
          refundId: row.id,
        }),
      );
      return true;
    }
    if (resume === 'cancelled') {
      await this.transitions.addRefundedToCancelled(m, row.orderId, row.amountCents);
      return true;
    }
    const payment = await m.findOneByOrFail(OrderPayment, { orderId: row.orderId });
    await this.transitions.settleRefund(m, {
      orderId: row.orderId,
      amount: row.amountCents,
      paidCents: payment.paidCents ?? 0,
      resume,
    });
    await this.outbox.append(
      m,
      orderEvent<OrderRefundedPayload>(ORDER_EVENTS.refunded, {
        orderId: row.orderId,
        refundCents: row.amountCents,
        refundId: row.id,
      }),
    );
    return true;
  }

  private async write(
    m: EntityManager,
    orderId: number,
    key: string,
    hash: string,
    amountCents: number,
    reason: string | null,
    resumeStatus: OrderStatus,
  ): Promise<number> {
    const inserted = await m.insert(OrderRefund, {
      orderId,
      outRefundNo: newOutRefundNo(orderId),
      idempotencyKey: key,
      requestHash: hash,
      amountCents,
      reason,
      state: 'requested',
      resumeStatus,
    });
    const refundId = Number(inserted.identifiers[0].id);
    await this.outbox.append(
      m,
      paymentEvent<RefundRequestedPayload>(PAYMENT_EVENTS.refundRequested, { orderId, refundId }),
    );
    return refundId;
  }

  private replay(earlier: OrderRefund, hash: string): void {
    if (earlier.requestHash !== hash) {
      throw new AppError('CONFLICT', 'Idempotency-Key was already used with a different request');
    }
  }

  private byKey(orderId: number, idempotencyKey: string): Promise<OrderRefund | null> {
    return this.consistency.primaryReads(() => this.refunds.findOneBy({ orderId, idempotencyKey }));
  }
}
