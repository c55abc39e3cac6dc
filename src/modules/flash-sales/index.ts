export { FlashSalesModule } from './flash-sales.module.js';
export { FlashSale } from './flash-sale.entity.js';
export { FlashTicket } from './flash-ticket.entity.js';
