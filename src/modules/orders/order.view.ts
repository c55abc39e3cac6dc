import type { OrderItem } from './order-item.entity.js';
import type { CancelReason, Order, OrderStatus } from './order.entity.js';

export interface OrderItemView {
  productId: number;
  /** Name and price when the order was placed. */
  name: string;
  unitPriceCents: number;
  quantity: number;
  subtotalCents: number;
}

/** What clients see of an order (API.md). */
export interface OrderView {
  id: number;
  status: OrderStatus;
  totalCents: number;
  remark: string | null;
  items: OrderItemView[];
  createdAt: string;
  updatedAt: string;
  /** ISO 8601: a pending order not paid by then is cancelled (`payment_timeout`). */
  payBefore: string;
  /** Why the order was cancelled; null unless it is `cancelled`. */
  cancelReason: CancelReason | null;
}

export interface OrderPage {
  items: OrderView[];
  nextCursor: string | null;
}

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
>;

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
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    payBefore: order.payBefore.toISOString(),
    cancelReason: order.cancelReason,
  };
}
