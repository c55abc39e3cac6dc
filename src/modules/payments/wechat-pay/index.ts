export { WechatPay } from './wechat-pay.js';
export { WechatPayClient } from './wechat-pay-client.js';
export type {
  PayRefund,
  PayTransaction,
  PrepayRequest,
  RefundRequest,
  RefundStatus,
  TradeState,
} from './wechat-pay-client.js';
export type { JsapiPayParams } from './signing.js';
export type { PayNotification, NotificationResult } from './notification.js';
export { signatureHeaders } from './verifier.js';
export { WechatPayError } from './wechat-pay-error.js';
export type { SignatureHeaders } from './verifier.js';
