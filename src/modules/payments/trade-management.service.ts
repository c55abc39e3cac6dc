import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { ReadinessDetails } from '../../infra/health/index.js';
import { WechatClient } from '../wechat/index.js';

const describe = (err: unknown) => (err instanceof Error ? err.message : 'unknown error');

/**
 * WeChat's order-shipping management (发货信息管理) as this account sees it,
 * asked once at boot by a shop that takes WeChat Pay or hears WeChat's
 * pushes, and shown in /health/ready's details (`wechatTradeManagement:
 * { managed, checkedAt }`, `managed` null until WeChat answered): when it is
 * false WeChat does not hold the shop's money for shipping, and uploads and
 * settlements do not apply. Boot also sets the page WeChat's shipping
 * messages open (WECHAT_ORDER_MESSAGE_PAGE). Neither call holds up boot or
 * readiness.
 */
@Injectable()
export class TradeManagement implements OnApplicationBootstrap {
  private readonly logger = new Logger('TradeManagement');
  private managed: boolean | null = null;
  private checkedAt: Date | null = null;

  constructor(
    @Inject(WechatClient) private readonly wechat: WechatClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly details: ReadinessDetails,
  ) {}

  onApplicationBootstrap(): void {
    // A shop without either has no order in WeChat's shipping management to ask about.
    if (this.config.payments.kind !== 'wechat' && !this.config.wechatPush) return;
    this.details.register('wechatTradeManagement', () => ({
      managed: this.managed,
      checkedAt: this.checkedAt?.toISOString() ?? null,
    }));
    void this.check();
    const page = this.config.wechat.orderMessagePage;
    if (page) {
      this.wechat.setMsgJumpPath(page).then(
        () => this.logger.log(`WeChat's shipping messages open ${page}`),
        (err: unknown) => this.logger.warn(`set_msg_jump_path failed: ${describe(err)}`),
      );
    }
  }

  private async check(): Promise<void> {
    try {
      this.managed = await this.wechat.isTradeManaged();
      this.checkedAt = new Date();
      if (!this.managed) {
        this.logger.warn(
          "WeChat does not manage this mini-program's orders (is_trade_managed false): shipping uploads and settlements do not apply",
        );
      }
    } catch (err) {
      this.logger.warn(`is_trade_managed failed: ${describe(err)}`);
    }
  }
}
