import { z } from 'zod';
import { apiView, intColumn, isoTime, pageOf, rowId } from '../../common/http/index.js';
import { deliveryAddressView, type DeliveryAddress } from '../users/index.js';
import type { OrderItem } from './order-item.entity.js';
import type { OrderShipment } from './order-shipment.entity.js';
import { CANCEL_REASONS, ORDER_STATUSES, type Order } from './order.entity.js';

export const orderItemView = apiView(
  'OrderItemView',
  z.strictObject({
    productId: rowId(),
    name: z.string().meta({ description: 'the name when the order was placed' }),
    unitPriceCents: intColumn().meta({ description: 'the price when the order was placed' }),
    quantity: z.int().min(1).meta({ example: 2 }),
    subtotalCents: intColumn(),
  }),
);
export type OrderItemView = z.infer<typeof orderItemView>;

/** What clients see of an order (docs/http-api.md). */
export const orderView = apiView(
  'OrderView',
  z.strictObject({
    id: rowId(),
    status: z.enum(ORDER_STATUSES),
    totalCents: intColumn().meta({ example: 11800 }),
    remark: z.string().nullable(),
    items: z.array(orderItemView),
    address: deliveryAddressView.nullable().meta({
      description: "the order's own copy of its delivery address; null until one is set",
    }),
    createdAt: isoTime(),
    updatedAt: isoTime(),
    payBefore: isoTime().meta({
      description: 'a pending order not paid by then is cancelled (`payment_timeout`)',
    }),
    cancelReason: z
      .enum(CANCEL_REASONS)
      .nullable()
      .meta({ description: 'why the order was cancelled; null unless it is `cancelled`' }),
    refundedCents: intColumn().meta({
      description:
        'what WeChat Pay has confirmed refunding (a cancelled order paid late: totalCents)',
    }),
  }),
);
export type OrderView = z.infer<typeof orderView>;

/** One package of a shipped order, as the buyer and staff see it. */
export const orderShipmentView = z.strictObject({
  carrier: z.string().nullable(),
  trackingNo: z
    .string()
    .nullable()
    .meta({ description: 'null when shipped without one (self-pickup)' }),
  shippedAt: isoTime(),
});

/** `GET /orders/:id`: the order and, once shipped, its packages (docs/http-api.md). */
export const orderDetailView = apiView(
  'OrderDetailView',
  orderView.extend({
    shipments: z
      .array(orderShipmentView)
      .meta({ description: 'one a package, in the order staff gave them; empty until shipped' }),
  }),
);
export type OrderDetailView = z.infer<typeof orderDetailView>;

export const orderPage = pageOf('OrderPage', orderView);
export type OrderPage = z.infer<typeof orderPage>;

type ItemFields = Pick<OrderItem, 'productId' | 'productName' | 'unitPriceCents' | 'quantity'>;
type OrderFields = Pick<
  Order,
  | 'id'
  | 'status'
  | 'totalCents'
  | 'remark'
  | 'createdAt'
  | 'updatedAt'
  | 'payBefore'
  | 'cancelReason'
> &
  // Absent on an order just placed: nothing refunded yet, no address unless given.
  Partial<Pick<Order, 'refundedCents' | AddressColumn>>;

type AddressColumn =
  | 'addressName'
  | 'addressPhone'
  | 'addressProvince'
  | 'addressCity'
  | 'addressDistrict'
  | 'addressDetail'
  | 'addressPostalCode';

/** The order's address columns for `address`, and back. */
export function addressColumns(a: DeliveryAddress): Pick<Order, AddressColumn> {
  return {
    addressName: a.name,
    addressPhone: a.phone,
    addressProvince: a.province,
    addressCity: a.city,
    addressDistrict: a.district,
    addressDetail: a.detail,
    addressPostalCode: a.postalCode,
  };
}

function addressOf(o: Partial<Pick<Order, AddressColumn>>): DeliveryAddress | null {
  if (o.addressName == null) return null;
  return {
    name: o.addressName,
    phone: o.addressPhone ?? '',
    province: o.addressProvince ?? '',
    city: o.addressCity ?? '',
    district: o.addressDistrict ?? '',
    detail: o.addressDetail ?? '',
    postalCode: o.addressPostalCode ?? null,
  };
}

export function shipmentsView(
  packages: readonly Pick<OrderShipment, 'carrier' | 'trackingNo' | 'shippedAt'>[],
): OrderDetailView['shipments'] {
  return packages.map((p) => ({
    carrier: p.carrier,
    trackingNo: p.trackingNo,
    shippedAt: p.shippedAt.toISOString(),
  }));
}

export function toView(order: OrderFields, items: readonly ItemFields[]): OrderView {
  return {
    id: order.id,
    status: order.status,
    totalCents: order.totalCents,
    remark: order.remark,
    items: items.map((i) => ({
      productId: i.productId,
      name: i.productName,
      unitPriceCents: i.unitPriceCents,
      quantity: i.quantity,
      subtotalCents: i.unitPriceCents * i.quantity,
    })),
    address: addressOf(order),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    payBefore: order.payBefore.toISOString(),
    cancelReason: order.cancelReason,
    refundedCents: order.refundedCents ?? 0,
  };
}
