/**
 * The part of the mini-program's `wx` object the SDK calls, typed here so the
 * SDK needs no typings package and a test can hand in its own implementation.
 * WeChat's own `WechatMiniprogram.Wx` (miniprogram-api-typings) fits it:
 * test/sdk-types.e2e-spec.ts passes one in.
 */

export interface WxRequestSuccess {
  statusCode: number;
  data: unknown;
  header: Record<string, string>;
}

export interface WxError {
  errMsg: string;
}

export interface WxRequestOptions {
  url: string;
  // What wx.request can send that the backend uses: it has no PATCH.
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  data?: string;
  header?: Record<string, string>;
  timeout?: number;
  dataType?: 'json' | 'other';
  success?: (res: WxRequestSuccess) => void;
  fail?: (err: WxError) => void;
}

export interface WxPaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

/** What `wx.chooseAddress` answers (the address the user picked in WeChat). */
export interface WxChosenAddress {
  userName: string;
  telNumber: string;
  provinceName: string;
  cityName: string;
  countyName: string;
  detailInfo: string;
  postalCode?: string;
  nationalCode?: string;
  errMsg?: string;
}

/** `{ errMsg, [templateId]: 'accept' | 'reject' | 'ban' | 'filter' }` */
export type WxSubscribeResult = WxError & Record<string, string>;

export interface Wx {
  request(options: WxRequestOptions): unknown;
  login(options: {
    success?: (res: { code: string }) => void;
    fail?: (err: WxError) => void;
  }): void;
  requestPayment(
    options: WxPaymentParams & { success?: () => void; fail?: (err: WxError) => void },
  ): void;
  requestSubscribeMessage(options: {
    tmplIds: string[];
    success?: (res: WxSubscribeResult) => void;
    fail?: (err: WxError) => void;
  }): void;
  chooseAddress(options: {
    success?: (res: WxChosenAddress) => void;
    fail?: (err: WxError) => void;
  }): void;
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): void;
  removeStorageSync(key: string): void;
}

/** A `wx` API failed or was cancelled by the user (`errMsg` says which). */
export class WxCallError extends Error {
  readonly errMsg: string;
  /** The user closed the dialog (payment cancelled, say): usually not an error to show. */
  readonly cancelled: boolean;

  constructor(
    readonly api: string,
    err: WxError,
  ) {
    super(`wx.${api}: ${err.errMsg}`);
    this.name = 'WxCallError';
    this.errMsg = err.errMsg;
    this.cancelled = /cancel/i.test(err.errMsg);
  }
}

/** Calls a callback-style `wx` API as a promise. */
export function wxCall<R>(
  api: string,
  call: (callbacks: { success: (res: R) => void; fail: (err: WxError) => void }) => void,
): Promise<R> {
  return new Promise((resolve, reject) => {
    call({ success: resolve, fail: (err) => reject(new WxCallError(api, err)) });
  });
}
