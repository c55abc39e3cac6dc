export { OrdersModule } from './orders.module.js';
export { Order } from './order.entity.js';
export type { OrderStatus } from './order.entity.js';
export { OrderItem } from './order-item.entity.js';
export type { OrderView, OrderItemView, OrderPage } from './order.view.js';
export { IDEMPOTENCY_HEADER, parseIdempotencyKey } from './params.js';
