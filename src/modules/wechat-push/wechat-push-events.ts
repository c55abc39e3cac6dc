import type { PushFields } from './push-message.js';

/**
 * Each pushed message becomes the outbox event `wechat.push.<Event>` (or
 * `wechat.push.<MsgType>` for a non-event message); the modules that act on
 * one register a consumer for its type.
 */
export const WECHAT_PUSH_EVENTS = {
  orderSettlement: 'wechat.push.trade_manage_order_settlement',
  remindShipping: 'wechat.push.trade_manage_remind_shipping',
  remindAccessApi: 'wechat.push.trade_manage_remind_access_api',
  mediaCheck: 'wechat.push.wxa_media_check',
  subscribePopup: 'wechat.push.subscribe_msg_popup_event',
  subscribeChange: 'wechat.push.subscribe_msg_change_event',
  subscribeSent: 'wechat.push.subscribe_msg_sent_event',
} as const;

/** The aggregate of a push event is its sender (FromUserName), else the message row. */
export const WECHAT_PUSH_AGGREGATE = 'wechat-push';

/** The payload of a `wechat.push.*` event. */
export interface WechatPushPayload {
  /** The wechat_push_messages row. */
  messageId: number;
  /** FromUserName: the user's openid for user events. */
  fromUser: string | null;
  fields: PushFields;
}

const NAME = /^[A-Za-z0-9_]{1,48}$/;

/** The outbox type of a message named `name` (an Event or MsgType WeChat chose). */
export function pushEventType(name: string): string {
  return `wechat.push.${NAME.test(name) ? name : 'other'}`;
}
