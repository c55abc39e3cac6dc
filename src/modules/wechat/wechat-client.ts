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

/**
 * The WeChat server APIs the backend uses. Used as the injection token: the
 * real HTTP client, or the sandbox in the embedded quick start.
 */
export abstract class WechatClient {
  /** The mini-program appid that encrypted user data must carry. */
  abstract readonly appId: string;
  /** Exchanges a wx.login() code; never retried (a code is single-use). */
  abstract code2session(code: string): Promise<WechatSession>;
  /** The phone number behind a getPhoneNumber button code. */
  abstract phoneNumberByCode(code: string): Promise<WechatPhone>;
  /** Whether WeChat still considers this session_key current for the user. */
  abstract checkSessionKey(openid: string, sessionKey: string): Promise<boolean>;
}
