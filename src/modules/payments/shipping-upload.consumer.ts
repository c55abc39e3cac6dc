import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  ConsumerRegistry,
  UnrecoverableJobError,
  type DeliveredEvent,
} from '../../infra/queue/index.js';
import { ORDER_EVENTS, Order, OrderItem, type OrderDeliveredPayload } from '../orders/index.js';
import { User } from '../users/index.js';
import { ShippingRejected, WechatClient, type ShippingUpload } from '../wechat/index.js';
import type { OrderShippedPayload } from './fulfilment.service.js';
import { OrderPayment } from './order-payment.entity.js';
import { rfc3339 } from './wechat-pay/http-wechat-pay-client.js';
import { WechatPay } from './wechat-pay/index.js';

export const SHIPPING_UPLOAD_QUEUE = 'payments.shipping-upload';
// WeChat's limit on shipping_list[].item_desc.
const ITEM_DESC_MAX = 120;

/** The order's item names, joined, cut to WeChat's 120 characters (by code point). */
export function itemDescription(names: string[]): string {
  const chars = Array.from(names.join('、'));
  return chars.length <= ITEM_DESC_MAX
    ? chars.join('')
    : `${chars.slice(0, ITEM_DESC_MAX - 1).join('')}…`;
}

/** What the upload is made from: a shipment, or the delivery of virtual goods. */
type UploadPayload = OrderShippedPayload | OrderDeliveredPayload;

function isShipped(payload: UploadPayload): payload is OrderShippedPayload {
  return 'shippedAt' in payload;
}

/**
 * `order.shipped` (and `order.delivered`, an order of only virtual goods
 * completed by its payment: logistics_type 3) becomes the shipping upload WeChat requires of
 * mini-programs that take WeChat Pay. The upload runs inside the consumer's
 * transaction, with the processed-event record, so a redelivery uploads
 * nothing:
 * - uploaded, or 10060003 (WeChat had it already): committed, done;
 * - a dead access_token is refreshed and the call retried once by the client;
 * - -1, 10060019, 5xx, timeouts: rolled back, the job retries with backoff;
 * - any other errcode refuses the upload itself (10060001 no such order,
 *   268485216 bad upload_time, …): a dead letter with WeChat's errmsg.
 * The order is keyed by WeChat Pay's transaction id, or by mchid +
 * out_trade_no when the payment row has none.
 */
@Injectable()
export class ShippingUploads implements OnModuleInit {
  constructor(
    private readonly registry: ConsumerRegistry,
    @Inject(WechatClient) private readonly wechat: WechatClient,
    private readonly pay: WechatPay,
  ) {}

  onModuleInit(): void {
    this.registry.register<UploadPayload>({
      name: SHIPPING_UPLOAD_QUEUE,
      events: [ORDER_EVENTS.shipped, ORDER_EVENTS.delivered],
      ordered: false,
      concurrency: 4,
      attempts: 6,
      backoffMs: 2000,
      handle: (event, m) => this.handle(event, m),
    });
  }

  private async handle(event: DeliveredEvent<UploadPayload>, m: EntityManager): Promise<void> {
    const orderId = Number(event.payload.orderId);
    const order = await m.findOneBy(Order, { id: orderId });
    const payment = await m.findOneBy(OrderPayment, { orderId });
    const user = order && (await m.findOneBy(User, { id: order.userId }));
    // Nothing WeChat could know about: no order, or not paid through WeChat Pay.
    if (!order || !payment || !user) return;
    const items = await m.find(OrderItem, { where: { orderId }, order: { id: 'ASC' } });
    const shipped = isShipped(event.payload) ? event.payload : null;
    const trackingNo = shipped?.trackingNo ?? null;
    const carrier = shipped?.carrier ?? null;
    const packages = shipped?.packages ?? null;
    const namesOf = (productIds: number[] | null) =>
      itemDescription(
        items
          .filter((i) => !productIds || productIds.includes(i.productId))
          .map((i) => i.productName),
      );
    const upload: ShippingUpload = {
      orderKey: payment.transactionId
        ? { type: 2, transactionId: payment.transactionId }
        : { type: 1, mchid: this.pay.client.mchId, outTradeNo: payment.outTradeNo },
      logisticsType: !shipped ? 3 : shipped.sameCity ? 2 : packages || trackingNo ? 1 : 4,
      shippingList: packages
        ? packages.map((p) => ({
            trackingNo: p.trackingNo,
            expressCompany: p.carrier,
            itemDesc: namesOf(p.productIds),
          }))
        : [
            {
              trackingNo,
              expressCompany: trackingNo ? carrier : null,
              itemDesc: namesOf(null),
            },
          ],
      uploadTime: rfc3339(new Date()),
      payerOpenid: user.openid,
    };
    try {
      await this.wechat.uploadShippingInfo(upload);
    } catch (err) {
      if (err instanceof ShippingRejected) throw new UnrecoverableJobError(err.message);
      throw err;
    }
  }
}
