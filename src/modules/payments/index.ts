export { PaymentsModule } from './payments.module.js';
export { OrderPayment } from './order-payment.entity.js';
export { OrderRefund } from './order-refund.entity.js';
export { RefundsService } from './refunds.service.js';
