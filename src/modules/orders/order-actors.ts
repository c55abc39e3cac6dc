/**
 * Who causes a transition: `user` the buyer, `staff` the back office,
 * `payment` WeChat Pay (a notification, a query, a close that found the
 * order paid; and the delivery of an order of only virtual goods, which
 * its payment completes), `timer` the payment timeout and the auto-completion, `refund`
 * the refund engine settling WeChat Pay's answer, `flash_sale` the flash
 * sale's batch persister placing admitted orders, `wechat` WeChat's
 * order-shipping service (a settlement pushed to /wechat/push).
 */
export const ORDER_ACTORS = [
  'user',
  'staff',
  'payment',
  'timer',
  'refund',
  'flash_sale',
  'wechat',
] as const;
export type OrderActor = (typeof ORDER_ACTORS)[number];
