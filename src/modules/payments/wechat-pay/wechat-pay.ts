import { Logger } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { AppError } from '../../../common/errors/index.js';
import type { AppConfig } from '../../../config/index.js';
import { HttpWechatPayClient } from './http-wechat-pay-client.js';
import { NotificationReader } from './notification.js';
import { SandboxWechatPayClient } from './sandbox-wechat-pay-client.js';
import { WechatPayVerifier } from './verifier.js';
import type { WechatPayClient } from './wechat-pay-client.js';

/**
 * WeChat Pay as configured: the client, the notification reader that trusts
 * the same keys, and the sandbox when there are no credentials. With
 * NODE_ENV=production and no WECHAT_PAY_MCHID it is off: every use is a
 * 503/50300 and the server still boots.
 */
export class WechatPay {
  private constructor(
    private readonly parts: {
      client: WechatPayClient;
      reader: NotificationReader;
      sandbox: SandboxWechatPayClient | null;
    } | null,
  ) {}

  static create(config: AppConfig, registry: Registry): WechatPay {
    const pay = config.payments;
    const logger = new Logger('WechatPay');
    if (pay.kind === 'off') {
      logger.warn(
        'WeChat Pay is not configured (WECHAT_PAY_MCHID unset): payment routes answer 503',
      );
      return new WechatPay(null);
    }
    if (pay.kind === 'sandbox') {
      logger.warn('WeChat Pay sandbox: payments are simulated (no WECHAT_PAY_MCHID)');
      const sandbox = new SandboxWechatPayClient(config.wechat.appId ?? 'wx-sandbox-appid');
      return new WechatPay({
        client: sandbox,
        reader: new NotificationReader(sandbox.verifier, sandbox.apiV3Key),
        sandbox,
      });
    }
    const verifier = new WechatPayVerifier(pay.verifyingKeys);
    return new WechatPay({
      client: new HttpWechatPayClient({
        appId: pay.appId,
        mchId: pay.mchId,
        merchantSerial: pay.merchantSerial,
        privateKey: pay.privateKey,
        verifier,
        publicKeyId: pay.publicKeyId,
        notifyUrl: pay.notifyUrl,
        baseUrl: pay.apiBaseUrl,
        timeoutMs: pay.timeoutMs,
        registry,
      }),
      reader: new NotificationReader(verifier, pay.apiV3Key),
      sandbox: null,
    });
  }

  get enabled(): boolean {
    return this.parts !== null;
  }

  /** 503/50300 when WeChat Pay is off. */
  assertEnabled(): void {
    this.require();
  }

  get client(): WechatPayClient {
    return this.require().client;
  }

  get reader(): NotificationReader {
    return this.require().reader;
  }

  /** The sandbox, or null with real credentials (then the dev routes do not exist). */
  get sandbox(): SandboxWechatPayClient | null {
    return this.parts?.sandbox ?? null;
  }

  close(): void {
    const client = this.parts?.client;
    if (client instanceof HttpWechatPayClient) client.closeConnections();
  }

  private require() {
    if (!this.parts) throw new AppError('UNAVAILABLE', 'WeChat Pay is not configured');
    return this.parts;
  }
}
