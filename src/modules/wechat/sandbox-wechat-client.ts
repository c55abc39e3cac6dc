import { createHash } from 'node:crypto';
import { WechatClient, type WechatPhone, type WechatSession } from './wechat-client.js';

const SANDBOX_APPID = 'wx-sandbox';

function digest(purpose: string, code: string): Buffer {
  return createHash('sha256').update(`${purpose}:${code}`, 'utf8').digest();
}

/**
 * Stand-in WeChat for the embedded quick start without credentials, so a new
 * developer can log in at once. Deterministic: the same code is always the
 * same user (openid `sandbox_` + the first 24 hex digits of
 * sha256("openid:" + code)). Refuses to exist in production.
 */
export class SandboxWechatClient extends WechatClient {
  readonly appId = SANDBOX_APPID;
  private readonly issued = new Map<string, string>();

  constructor(nodeEnv: string) {
    super();
    if (nodeEnv === 'production') {
      throw new Error('the sandbox WeChat client is for the embedded quick start only');
    }
  }

  static openidFor(code: string): string {
    return `sandbox_${digest('openid', code).toString('hex').slice(0, 24)}`;
  }

  code2session(code: string): Promise<WechatSession> {
    const openid = SandboxWechatClient.openidFor(code);
    const sessionKey = digest('session_key', code).subarray(0, 16).toString('base64');
    // Like WeChat, the latest login's session_key is the current one.
    this.issued.set(openid, sessionKey);
    return Promise.resolve({ openid, unionid: null, sessionKey });
  }

  phoneNumberByCode(code: string): Promise<WechatPhone> {
    const digits = String(digest('phone', code).readUInt32BE(0) % 100_000_000).padStart(8, '0');
    const pure = `139${digits}`;
    return Promise.resolve({ phoneNumber: pure, purePhoneNumber: pure, countryCode: '86' });
  }

  checkSessionKey(openid: string, sessionKey: string): Promise<boolean> {
    return Promise.resolve(this.issued.get(openid) === sessionKey);
  }
}
