import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { ConsumerRegistry, type DeliveredEvent } from '../../infra/queue/index.js';
import { User } from '../users/index.js';
import {
  WECHAT_PUSH_EVENTS,
  type PushFields,
  type WechatPushPayload,
} from '../wechat-push/index.js';
import { SubscribeCredits } from './subscribe-credits.service.js';

export const WECHAT_SUBSCRIPTIONS_QUEUE = 'notifications.wechat-subscriptions';

/** Where each event keeps its list in XML (JSON has `List` at the top). */
const XML_WRAPPERS = ['SubscribeMsgPopupEvent', 'SubscribeMsgChangeEvent', 'SubscribeMsgSentEvent'];
const REFUSED = new Set(['reject', 'ban', 'filter']);

interface ListItem {
  TemplateId?: unknown;
  SubscribeStatusString?: unknown;
  ErrorCode?: unknown;
}

/** The event's items: one object or several, at the top (JSON) or inside its wrapper (XML). */
function itemsOf(fields: PushFields): ListItem[] {
  let list: unknown = fields.List;
  for (const wrapper of XML_WRAPPERS) {
    const inner = fields[wrapper];
    if (list === undefined && inner && typeof inner === 'object') {
      list = (inner as Record<string, unknown>).List;
    }
  }
  const items = Array.isArray(list) ? list : list === undefined ? [] : [list];
  return items.filter((i): i is ListItem => typeof i === 'object' && i !== null);
}

const text = (value: unknown) =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : '';

/**
 * Subscribe-message credits from WeChat's own word, beside what the client
 * reports (POST /users/me/subscriptions): an acceptance in the popup adds a
 * credit; a refusal, in the popup or later in the settings, or WeChat's ban
 * removes the template's credits; a message WeChat reports it failed to
 * deliver returns the credit its send spent. Templates not configured and
 * users we do not know are ignored. Applied once per pushed message (the
 * processed-event record of the consumer's transaction).
 */
@Injectable()
export class WechatSubscriptions implements OnModuleInit {
  constructor(
    private readonly registry: ConsumerRegistry,
    private readonly credits: SubscribeCredits,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (!this.config.wechatPush) return;
    if (!Object.values(this.config.subscribe.templates).some(Boolean)) return;
    this.registry.register<WechatPushPayload>({
      name: WECHAT_SUBSCRIPTIONS_QUEUE,
      events: [
        WECHAT_PUSH_EVENTS.subscribePopup,
        WECHAT_PUSH_EVENTS.subscribeChange,
        WECHAT_PUSH_EVENTS.subscribeSent,
      ],
      // In the order each user's events came: an acceptance, then a refusal, leaves none.
      ordered: true,
      concurrency: 4,
      handle: (event, m) => this.handle(event, m),
    });
  }

  private async handle(event: DeliveredEvent<WechatPushPayload>, m: EntityManager): Promise<void> {
    const openid = event.payload.fromUser;
    if (!openid) return;
    const items = itemsOf(event.payload.fields).filter((i) =>
      this.credits.isTemplate(text(i.TemplateId)),
    );
    if (items.length === 0) return;
    const user = await m.findOne(User, { where: { openid }, select: { id: true } });
    if (!user) return;
    for (const item of items) {
      const templateId = text(item.TemplateId);
      const status = text(item.SubscribeStatusString);
      if (event.type === WECHAT_PUSH_EVENTS.subscribeSent) {
        const code = text(item.ErrorCode);
        if (code !== '' && code !== '0') await this.credits.grant(m, user.id, templateId);
      } else if (REFUSED.has(status)) {
        await this.credits.revoke(m, user.id, templateId);
      } else if (status === 'accept' && event.type === WECHAT_PUSH_EVENTS.subscribePopup) {
        await this.credits.grant(m, user.id, templateId);
      }
    }
  }
}
