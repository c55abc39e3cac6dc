export { WechatPushModule } from './wechat-push.module.js';
export { WechatPushMessage } from './wechat-push-message.entity.js';
export { WECHAT_PUSH_EVENTS, type WechatPushPayload } from './wechat-push-events.js';
export type { PushFields } from './push-message.js';
