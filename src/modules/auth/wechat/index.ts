export { WechatClient } from './wechat-client.js';
export type { WechatSession, WechatPhone } from './wechat-client.js';
export { HttpWechatClient } from './http-wechat-client.js';
export { SandboxWechatClient } from './sandbox-wechat-client.js';
export {
  AccessTokenStore,
  MemoryAccessTokenStore,
  RedisAccessTokenStore,
} from './access-token.store.js';
export { decryptUserData, verifyRawDataSignature, WechatDataError } from './wechat-crypto.js';
