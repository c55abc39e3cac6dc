export { WechatModule } from './wechat.module.js';
export { WechatClient } from './wechat-client.js';
export type {
  ContentCheck,
  ContentScene,
  ContentVerdict,
  SubscribeMessage,
  ShippedParcel,
  ShippingOrderState,
  ShippingOutcome,
  ShippingUpload,
  SubscribeOutcome,
  WechatPhone,
  WechatSession,
  WxaCodeImage,
  WxaCodeRequest,
} from './wechat-client.js';
export { SandboxWechatClient } from './sandbox-wechat-client.js';
export { ShippingRejected, SubscribeRejected } from './wechat-errors.js';
export { decryptUserData, verifyRawDataSignature, WechatDataError } from './wechat-crypto.js';
