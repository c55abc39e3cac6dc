import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { checkerPng } from './sandbox-png.js';
import {
  WechatClient,
  type ContentCheck,
  type ContentVerdict,
  type ShippingOrderState,
  type ShippingOutcome,
  type ShippingUpload,
  type SubscribeMessage,
  type SubscribeOutcome,
  type WechatPhone,
  type WechatSession,
  type WxaCodeImage,
  type WxaCodeRequest,
} from './wechat-client.js';
import { SubscribeRejected } from './wechat-errors.js';

const SANDBOX_APPID = 'wx-sandbox';

function digest(purpose: string, code: string): Buffer {
  return createHash('sha256').update(`${purpose}:${code}`, 'utf8').digest();
}

// Words that make the sandbox's content check answer like WeChat would for
// a risky or doubtful text, so the 42201 and review paths can be tried locally.
const SANDBOX_RISKY = '[risky]';
const SANDBOX_REVIEW = '[review]';
// WeChat's default width of a mini-program code.
const DEFAULT_WXACODE_WIDTH = 430;

/**
 * Stand-in WeChat for the embedded quick start without credentials, so a new
 * developer can log in at once. Deterministic: the same code is always the
 * same user (openid `sandbox_` + the first 24 hex digits of
 * sha256("openid:" + code)). Content checks pass unless the text holds
 * `[risky]` or `[review]`; mini-program codes are a PNG pattern drawn from the
 * scene; subscribe messages are logged (and refused like WeChat, 47003, when
 * a value is empty). Refuses to exist in production.
 */
export class SandboxWechatClient extends WechatClient {
  readonly appId = SANDBOX_APPID;
  private readonly logger = new Logger('WeChat sandbox');
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

  checkText(check: ContentCheck): Promise<ContentVerdict> {
    if (check.content.includes(SANDBOX_RISKY))
      return Promise.resolve({ suggest: 'risky', label: 20001 });
    if (check.content.includes(SANDBOX_REVIEW))
      return Promise.resolve({ suggest: 'review', label: 21000 });
    return Promise.resolve({ suggest: 'pass', label: 100 });
  }

  /**
   * A trace_id and nothing more: the sandbox has no push to send the
   * verdict, so the check stays pending until the sweeper asks again and
   * finally flags it `unchecked` for staff, as when WeChat never answers.
   */
  requestImageCheck(mediaUrl: string, openid: string): Promise<string> {
    return Promise.resolve(
      `sandbox-${digest('media', `${openid} ${mediaUrl} ${Date.now()}`).toString('hex').slice(0, 24)}`,
    );
  }

  wxaCodeUnlimited(request: WxaCodeRequest): Promise<WxaCodeImage> {
    const bits = digest('wxacode', `${request.page ?? ''}?${request.scene}`);
    const cells = 16;
    const body = checkerPng(request.width ?? DEFAULT_WXACODE_WIDTH, cells, (x, y) => {
      const bit = y * cells + x;
      return ((bits[(bit >> 3) % bits.length] >> (bit & 7)) & 1) === 1;
    });
    return Promise.resolve({ contentType: 'image/png', body });
  }

  sendSubscribeMessage(message: SubscribeMessage): Promise<SubscribeOutcome> {
    const empty = Object.entries(message.data).find(([, value]) => value.length === 0);
    if (empty) {
      return Promise.reject(
        new SubscribeRejected(47003, `argument invalid! data.${empty[0]}.value is empty`),
      );
    }
    this.logger.log(
      `subscribe message ${message.templateId} to ${message.openid}: ${JSON.stringify(message.data)}`,
    );
    return Promise.resolve('sent');
  }

  uploadShippingInfo(upload: ShippingUpload): Promise<ShippingOutcome> {
    const key =
      upload.orderKey.type === 2 ? upload.orderKey.transactionId : upload.orderKey.outTradeNo;
    this.logger.log(
      `shipping info for ${key}: logistics_type ${upload.logisticsType}, ${upload.shippingList.map((p) => p.itemDesc).join(' | ')}`,
    );
    return Promise.resolve('uploaded');
  }

  /** The sandbox's uploads are taken at once: an order is shipped as far as it knows. */
  shippingOrderState(): Promise<ShippingOrderState | null> {
    return Promise.resolve(2);
  }

  notifyConfirmReceive(orderKey: ShippingUpload['orderKey']): Promise<void> {
    const key = orderKey.type === 2 ? orderKey.transactionId : orderKey.outTradeNo;
    this.logger.log(`receipt reminder for ${key}`);
    return Promise.resolve();
  }

  /** The sandbox behaves as an account whose payments WeChat manages (uploads are taken). */
  isTradeManaged(): Promise<boolean> {
    return Promise.resolve(true);
  }

  setMsgJumpPath(path: string): Promise<void> {
    this.logger.log(`shipping messages open ${path}`);
    return Promise.resolve();
  }
}
