export { OrdersModule } from './orders.module.js';
export { Order } from './order.entity.js';
export type { CancelReason, OrderStatus } from './order.entity.js';
export { OrderCancelHooks, type BeforeCancelHook } from './order-cancel.hooks.js';
export {
  ORDER_EVENTS,
  orderEvent,
  type OrderCancelledPayload,
  type OrderEventType,
  type OrderPlacedPayload,
} from './order-events.js';
export { OrderItem } from './order-item.entity.js';
export type { OrderView, OrderItemView, OrderPage } from './order.view.js';
