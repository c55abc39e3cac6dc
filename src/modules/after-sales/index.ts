export { AfterSalesModule } from './after-sales.module.js';
export {
  AFTER_SALES_STATUSES,
  AFTER_SALES_TYPES,
  AfterSalesRequest,
  type AfterSalesStatus,
  type AfterSalesType,
} from './after-sales.entity.js';
export {
  AFTER_SALES_EVENTS,
  type AfterSalesEventPayload,
  type AfterSalesEventType,
} from './after-sales-events.js';
export { afterSalesView, toAfterSalesView, type AfterSalesView } from './after-sales.view.js';
