export { OrdersModule } from './orders.module.js';
export { OrdersService, type BatchOrder } from './orders.service.js';
export { Order } from './order.entity.js';
export {
  CANCEL_REASONS,
  ORDER_STATUSES,
  type CancelReason,
  type OrderStatus,
} from './order.entity.js';
export { OrderCancelHooks, type BeforeCancelHook } from './order-cancel.hooks.js';
export {
  ORDER_EVENTS,
  orderEvent,
  type OrderCancelledPayload,
  type OrderDeliveredPayload,
  type OrderEventType,
  type OrderPlacedPayload,
  type OrderRefundFailedPayload,
  type OrderRefundedPayload,
} from './order-events.js';
export { OrderItem } from './order-item.entity.js';
export { OrderShipment } from './order-shipment.entity.js';
export { OrderTimelineEntry } from './order-timeline.entity.js';
export { ORDER_ACTORS, type OrderActor } from './order-actors.js';
export {
  ORDER_TRANSITIONS,
  OrderTransitions,
  TransitionRefused,
  isAllowed,
  type AllowedTransition,
  type Transition,
} from './order-transitions.js';
export {
  orderShipmentView,
  orderView,
  shipmentsView,
  type OrderView,
  type OrderItemView,
  type OrderPage,
} from './order.view.js';
export { IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY, parseIdempotencyKey } from './params.js';
