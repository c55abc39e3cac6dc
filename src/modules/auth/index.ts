export { AuthModule } from './auth.module.js';
export { WechatClient } from './wechat/index.js';
export type { WechatSession, WechatPhone } from './wechat/index.js';
