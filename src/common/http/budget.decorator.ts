import { routeConfig } from './route-config.js';

/** Route config key read by the request context: which budget the route gets. */
export const BUDGET_ROUTE = 'budget';

/**
 * The request budgets an operator can set (REQUEST_BUDGET_MS,
 * REQUEST_BUDGET_ORDERS_MS, REQUEST_BUDGET_WECHAT_MS): named, not numbers in
 * the code, because the right value depends on the deployment.
 */
export type BudgetName = 'default' | 'orders' | 'wechat';

/**
 * Gives a route a budget other than the default: `wechat` for routes that
 * wait for WeChat or WeChat Pay, `orders` for placing an order. Merged into
 * the route's Fastify config, so it combines with @Compressed() and
 * @RawBody() in either order.
 */
export const Budget = (name: Exclude<BudgetName, 'default'>): MethodDecorator =>
  routeConfig({ [BUDGET_ROUTE]: name });
