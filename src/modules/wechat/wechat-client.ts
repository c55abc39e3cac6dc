/** What code2session tells us about the user. `sessionKey` never leaves the server. */
export interface WechatSession {
  openid: string;
  unionid: string | null;
  sessionKey: string;
}

export interface WechatPhone {
  /** With country code when not +86, as WeChat gives it. */
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

/** msgSecCheck v2 scenes: 1 profile, 2 comment, 3 forum, 4 social log. */
export type ContentScene = 1 | 2 | 3 | 4;

export interface ContentCheck {
  openid: string;
  scene: ContentScene;
  content: string;
}

/** WeChat's decision on a text (`result.suggest`), and its label (100 = normal). */
export interface ContentVerdict {
  suggest: 'pass' | 'review' | 'risky';
  label: number;
}

export interface WxaCodeRequest {
  scene: string;
  page?: string;
  width?: number;
}

export interface WxaCodeImage {
  contentType: string;
  body: Buffer;
}

/** A subscribe message to send (`/cgi-bin/message/subscribe/send`); values already fit WeChat's limits. */
export interface SubscribeMessage {
  openid: string;
  templateId: string;
  /** keyword → value, e.g. `{ thing1: '普洱茶', amount2: '¥12.50' }`. */
  data: Record<string, string>;
  page?: string;
  miniprogramState: 'formal' | 'trial' | 'developer';
}

/** `sent`, or `refused`: 43101, the user has no credit at WeChat (refused, or spent). */
export type SubscribeOutcome = 'sent' | 'refused';

/** One parcel of an upload_shipping_info shipping_list. */
export interface ShippedParcel {
  trackingNo: string | null;
  expressCompany: string | null;
  /** The parcel's item names, at most 120 characters. */
  itemDesc: string;
}

/** What `/wxa/sec/order/upload_shipping_info` is told about a shipped order. */
export interface ShippingUpload {
  /** type 2: the WeChat Pay transaction id; type 1: the merchant's mchid and out_trade_no. */
  orderKey: { type: 2; transactionId: string } | { type: 1; mchid: string; outTradeNo: string };
  /** 1 express delivery, 2 same-city delivery, 3 virtual goods, 4 the user picks it up. */
  logisticsType: 1 | 2 | 3 | 4;
  /** One entry per parcel (at most 10); several are uploaded as split delivery. */
  shippingList: ShippedParcel[];
  /** RFC 3339 with +08:00, e.g. `2026-12-01T20:00:00+08:00`. */
  uploadTime: string;
  payerOpenid: string;
}

/**
 * What WeChat's order-shipping management holds of an order (get_order
 * `order_state`): 1 not shipped, 2 shipped, 3 receipt confirmed, 4 settled,
 * 5 refunded, 6 funds awaiting settlement.
 */
export type ShippingOrderState = 1 | 2 | 3 | 4 | 5 | 6;

/** `uploaded`, or `already`: WeChat had the shipping information before (10060003). */
export type ShippingOutcome = 'uploaded' | 'already';

/**
 * The WeChat server APIs the backend uses. Used as the injection token: the
 * real HTTP client, or the sandbox in the embedded quick start.
 */
export abstract class WechatClient {
  /** The mini-program appid that encrypted user data must carry. */
  abstract readonly appId: string;
  /** Exchanges a wx.login() code; never retried (a code is single-use). */
  abstract code2session(code: string): Promise<WechatSession>;
  /** The phone number behind a getPhoneNumber button code (`openid` lets WeChat check whose). */
  abstract phoneNumberByCode(code: string, openid?: string): Promise<WechatPhone>;
  /** Whether WeChat still considers this session_key current for the user. */
  abstract checkSessionKey(openid: string, sessionKey: string): Promise<boolean>;
  /** Content security (msg_sec_check v2) of a text the user wrote. */
  abstract checkText(check: ContentCheck): Promise<ContentVerdict>;
  /**
   * Asks for an asynchronous check of an image (media_check_async v2,
   * media_type 2): the answer is WeChat's trace_id; the verdict comes later
   * as the pushed `wxa_media_check` event carrying it. An errcode (45009
   * quota, -1 busy) throws, for the caller to retry later.
   */
  abstract requestImageCheck(mediaUrl: string, openid: string): Promise<string>;
  /** The unlimited mini-program code (getwxacodeunlimit) as an image. */
  abstract wxaCodeUnlimited(request: WxaCodeRequest): Promise<WxaCodeImage>;
  /**
   * Sends a subscribe message. Throws `SubscribeRejected` when WeChat refuses
   * the message itself (bad data, template, openid or page): sending it again
   * cannot help.
   */
  abstract sendSubscribeMessage(message: SubscribeMessage): Promise<SubscribeOutcome>;
  /**
   * Uploads an order's shipping information. Throws `ShippingRejected` when
   * WeChat refuses it for good (no such order, bad fields): sending it again
   * cannot help.
   */
  abstract uploadShippingInfo(upload: ShippingUpload): Promise<ShippingOutcome>;
  /** The order's state in WeChat's order-shipping management (get_order); null when WeChat knows no such payment. */
  abstract shippingOrderState(
    orderKey: ShippingUpload['orderKey'],
  ): Promise<ShippingOrderState | null>;
  /**
   * Asks WeChat to remind the buyer to confirm receipt (notify_confirm_receive),
   * the goods having arrived at `receivedAt`; once per order.
   */
  abstract notifyConfirmReceive(
    orderKey: ShippingUpload['orderKey'],
    receivedAt: Date,
  ): Promise<void>;
  /** Whether WeChat's order-shipping management holds this mini-program's payments (is_trade_managed). */
  abstract isTradeManaged(): Promise<boolean>;
  /**
   * The page WeChat's shipping and settlement messages open
   * (set_msg_jump_path); WeChat appends transaction_id, merchant_id and
   * merchant_trade_no to its query.
   */
  abstract setMsgJumpPath(path: string): Promise<void>;
}
