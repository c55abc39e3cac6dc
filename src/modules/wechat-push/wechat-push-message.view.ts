import { z } from 'zod';
import { apiView, intColumn, isoTime, pageOf, rowId } from '../../common/http/index.js';
import type { WechatPushMessage } from './wechat-push-message.entity.js';

/** A stored push as GET /admin/wechat/push-messages shows it. */
export const pushMessageView = apiView(
  'WechatPushMessageView',
  z.strictObject({
    id: rowId(),
    /** The Event of an event message, else its MsgType. */
    event: z.string().meta({ example: 'trade_manage_remind_shipping' }),
    msgType: z.string().meta({ example: 'event' }),
    fromUser: z.string().nullable(),
    /** WeChat's CreateTime, Unix seconds. */
    createTime: intColumn().nullable().meta({ example: 1733540000 }),
    /** The message as WeChat sent it (decrypted), as JSON text. */
    message: z.string(),
    receivedAt: isoTime(),
  }),
);
export type PushMessageView = z.infer<typeof pushMessageView>;

export const pushMessagePage = pageOf('WechatPushMessagePage', pushMessageView);
export type PushMessagePage = z.infer<typeof pushMessagePage>;

export function toPushMessageView(row: WechatPushMessage): PushMessageView {
  return {
    id: row.id,
    event: row.name,
    msgType: row.msgType,
    fromUser: row.fromUser,
    createTime: row.createTime === null ? null : Number(row.createTime),
    message: row.payload,
    receivedAt: row.receivedAt.toISOString(),
  };
}
