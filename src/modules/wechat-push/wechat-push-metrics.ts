import { Counter, type Registry } from 'prom-client';

/** Events counted by name; anything else is `other`, so a sender cannot grow the label set. */
const COUNTED = new Set([
  'trade_manage_order_settlement',
  'trade_manage_remind_shipping',
  'trade_manage_remind_access_api',
  'wxa_media_check',
  'subscribe_msg_popup_event',
  'subscribe_msg_change_event',
  'subscribe_msg_sent_event',
]);

export type PushRefusal = 'signature' | 'timestamp' | 'decrypt' | 'malformed' | 'too_large';

/** New push messages by event, and refused pushes by reason, in /metrics. */
export class WechatPushMetrics {
  private readonly received: Counter<'event'>;
  private readonly refusedTotal: Counter<'reason'>;

  constructor(registry: Registry) {
    this.received = new Counter({
      name: 'wechat_push_messages_total',
      help: 'WeChat push messages stored (repeats not counted) by event (known events, or other)',
      labelNames: ['event'],
      registers: [registry],
    });
    this.refusedTotal = new Counter({
      name: 'wechat_push_refused_total',
      help: 'WeChat pushes refused by reason (signature, timestamp, decrypt, malformed, too_large)',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  stored(name: string): void {
    this.received.inc({ event: COUNTED.has(name) ? name : 'other' });
  }

  refused(reason: PushRefusal): void {
    this.refusedTotal.inc({ reason });
  }
}
