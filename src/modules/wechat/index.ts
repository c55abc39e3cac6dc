export { WechatModule } from './wechat.module.js';
export { WechatClient } from './wechat-client.js';
export type { WechatSession, WechatPhone } from './wechat-client.js';
export { SandboxWechatClient } from './sandbox-wechat-client.js';
export { decryptUserData, verifyRawDataSignature, WechatDataError } from './wechat-crypto.js';
