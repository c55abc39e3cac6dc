export { Client, addressOf, createClient } from './client.js';
export type { ClientOptions, RequestOptions, SubscribeResult } from './client.js';
export {
  ApiError,
  Codes,
  isApiError,
  NetworkError,
  TicketFailedError,
  TicketTimeoutError,
} from './errors.js';
export type { PollOptions } from './flash.js';
export { newIdempotencyKey } from './idempotency.js';
export type { LoginOptions } from './session.js';
export type { RetryPolicy } from './transport.js';
export { WxCallError } from './wx.js';
export type {
  Wx,
  WxChosenAddress,
  WxPaymentParams,
  WxRequestOptions,
  WxRequestSuccess,
} from './wx.js';
export type * from './api.js';
