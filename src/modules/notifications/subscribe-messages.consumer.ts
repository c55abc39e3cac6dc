import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig, type SubscribeKind } from '../../config/index.js';
import {
  ConsumerRegistry,
  UnrecoverableJobError,
  type DeliveredEvent,
} from '../../infra/queue/index.js';
import { AFTER_SALES_EVENTS } from '../after-sales/index.js';
import { ORDER_EVENTS, Order, OrderItem } from '../orders/index.js';
import { User } from '../users/index.js';
import { SubscribeRejected, WechatClient } from '../wechat/index.js';
import { SubscribeCredits } from './subscribe-credits.service.js';
import { subscribeData, type MessageFacts } from './subscribe-data.js';

export const SUBSCRIBE_MESSAGES_QUEUE = 'notifications.subscribe-messages';

/** The order or after-sales event each kind of message answers, and what it says. */
const KINDS: { kind: SubscribeKind; event: string; status: string }[] = [
  { kind: 'orderPaid', event: ORDER_EVENTS.paid, status: '已支付' },
  { kind: 'orderShipped', event: ORDER_EVENTS.shipped, status: '已发货' },
  { kind: 'orderRefunded', event: ORDER_EVENTS.refunded, status: '已退款' },
  { kind: 'orderTimeout', event: ORDER_EVENTS.cancelled, status: '已取消' },
  { kind: 'afterSalesApproved', event: AFTER_SALES_EVENTS.approved, status: '售后已同意' },
  { kind: 'afterSalesRejected', event: AFTER_SALES_EVENTS.rejected, status: '售后已拒绝' },
  { kind: 'afterSalesRefunded', event: AFTER_SALES_EVENTS.refunded, status: '已退款' },
];

/**
 * The payload fields the message uses. Only `orderId` is relied on: the
 * rest of what a message says comes from the order row, so the payment
 * flow's payloads can grow without breaking messages.
 */
interface OrderEventPayload {
  orderId: number;
  /** A cancel's reason, or an after-sales rejection's (then it is said as `reason`). */
  reason?: string | null;
  refundCents?: number;
  /** An after-sales decision's amount (approved or refunded). */
  amountCents?: number | null;
  carrier?: string | null;
  trackingNo?: string | null;
}

function reasonOf(kind: SubscribeKind, payload: OrderEventPayload): string | null {
  if (kind === 'orderTimeout') return '超时未支付';
  return kind === 'afterSalesRejected' ? (payload.reason ?? null) : null;
}

/**
 * Order and after-sales events become subscribe messages. Each delivery spends one of the
 * user's credits for the template in the consumer's transaction (with the
 * processed-event record, so a redelivery spends and sends nothing) and
 * sends while that transaction is open:
 * - sent, or 43101 (WeChat holds no credit for the user): committed, done;
 * - WeChat refuses the message itself (47003 bad data, 40037 template, …):
 *   unrecoverable, rolled back (the credit stays), kept as a dead letter
 *   with WeChat's errmsg;
 * - a dead access_token is refreshed and the send retried once by the
 *   client; anything else (outage, -1) rolls back and the job retries.
 * No credit, no call. The queue's rate limiter keeps every worker together
 * under WECHAT_SUBSCRIBE_RATE_PER_MIN.
 */
@Injectable()
export class SubscribeMessages implements OnModuleInit {
  private readonly logger = new Logger('SubscribeMessages');

  constructor(
    private readonly registry: ConsumerRegistry,
    private readonly credits: SubscribeCredits,
    @Inject(WechatClient) private readonly wechat: WechatClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const kinds = KINDS.filter((k) => this.config.subscribe.templates[k.kind]);
    // No template configured: no queue that would only skip events.
    if (kinds.length === 0) return;
    this.registry.register<OrderEventPayload>({
      name: SUBSCRIBE_MESSAGES_QUEUE,
      events: kinds.map((k) => k.event),
      // Messages of one order are independent: a dead-lettered one (47003)
      // must not hold back the next (ordered consumers wait for it).
      ordered: false,
      concurrency: 4,
      rateLimit: { max: this.config.subscribe.ratePerMinute, durationMs: 60_000 },
      attempts: 6,
      backoffMs: 2000,
      handle: (event, m) => this.handle(event, m),
    });
  }

  private async handle(event: DeliveredEvent<OrderEventPayload>, m: EntityManager): Promise<void> {
    const kind = KINDS.find((k) => k.event === event.type);
    const template = kind && this.config.subscribe.templates[kind.kind];
    if (!kind || !template) return;
    const order = await m.findOneBy(Order, { id: Number(event.payload.orderId) });
    if (!order) return;
    if (kind.kind === 'orderTimeout' && order.cancelReason !== 'payment_timeout') return;
    const user = await m.findOneBy(User, { id: order.userId });
    if (!user) return;
    if (!(await this.credits.spend(m, order.userId, template.templateId))) return;
    const items = await m.find(OrderItem, { where: { orderId: order.id }, order: { id: 'ASC' } });
    const facts: MessageFacts = {
      orderId: order.id,
      productNames: items.map((i) => i.productName),
      totalCents: order.totalCents,
      refundCents: event.payload.refundCents ?? event.payload.amountCents ?? order.refundedCents,
      status: kind.status,
      reason: reasonOf(kind.kind, event.payload),
      at: event.createdAt,
      carrier: event.payload.carrier ?? null,
      trackingNo: event.payload.trackingNo ?? null,
    };
    const page = this.config.subscribe.page?.replaceAll('{orderId}', String(order.id));
    try {
      const outcome = await this.wechat.sendSubscribeMessage({
        openid: user.openid,
        templateId: template.templateId,
        data: subscribeData(template.fields, facts),
        miniprogramState: this.config.subscribe.miniprogramState,
        ...(page === undefined ? {} : { page }),
      });
      if (outcome === 'refused') {
        this.logger.log(
          `order ${order.id} ${event.type}: WeChat holds no credit for the user (43101); credit spent`,
        );
      }
    } catch (err) {
      if (err instanceof SubscribeRejected) throw new UnrecoverableJobError(err.message);
      throw err;
    }
  }
}
