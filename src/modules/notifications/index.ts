export { NotificationsModule } from './notifications.module.js';
export { SubscribeCredit } from './subscribe-credit.entity.js';
