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
  /** The unlimited mini-program code (getwxacodeunlimit) as an image. */
  abstract wxaCodeUnlimited(request: WxaCodeRequest): Promise<WxaCodeImage>;
  /**
   * Sends a subscribe message. Throws `SubscribeRejected` when WeChat refuses
   * the message itself (bad data, template, openid or page): sending it again
   * cannot help.
   */
  abstract sendSubscribeMessage(message: SubscribeMessage): Promise<SubscribeOutcome>;
}
