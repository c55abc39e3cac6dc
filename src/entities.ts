import { Product } from './modules/catalog/index.js';
import { ContentFlag } from './modules/moderation/index.js';
import { FlashSale, FlashTicket } from './modules/flash-sales/index.js';
import { SubscribeCredit } from './modules/notifications/index.js';
import { Order, OrderItem, OrderShipment, OrderTimelineEntry } from './modules/orders/index.js';
import { OrderPayment, OrderRefund } from './modules/payments/index.js';
import { Address, MediaCheck, User } from './modules/users/index.js';
import { WechatPushMessage } from './modules/wechat-push/index.js';
import { AuditEntry } from './infra/audit/index.js';
import { AfterSalesRequest } from './modules/after-sales/index.js';
import { OutboxEvent, ProcessedEvent } from './infra/queue/index.js';
import { RuntimeSettingsRow, SettingsChange } from './infra/settings/index.js';

/**
 * Every entity, for the data source shared by the app and the TypeORM CLI.
 * The list lives at the composition root, beside app.module.ts: the database
 * layer (src/infra/database) takes it as an argument and never imports the
 * domain modules.
 */
export const entities = [
  User,
  Address,
  Product,
  Order,
  OrderItem,
  OrderTimelineEntry,
  ContentFlag,
  OutboxEvent,
  ProcessedEvent,
  OrderPayment,
  OrderRefund,
  OrderShipment,
  FlashSale,
  FlashTicket,
  SubscribeCredit,
  RuntimeSettingsRow,
  SettingsChange,
  WechatPushMessage,
  AuditEntry,
  MediaCheck,
  AfterSalesRequest,
];
