import { Injectable, Logger } from '@nestjs/common';
import { PaymentMetrics } from './payment-metrics.js';
import { PaymentsService } from './payments.service.js';
import { RefundsService } from './refunds.service.js';
import { WechatPay, type SignatureHeaders } from './wechat-pay/index.js';

/** The answer to WeChat Pay: 204, or its own `{ code: "FAIL", message }` format. */
export type NotifyAnswer = { status: 204 } | { status: 400 | 401 | 503; message: string };

const REFUSALS: Record<string, string> = {
  missing_headers: 'signature headers missing',
  stale: 'timestamp too far from our clock',
  probe: 'signature probe refused',
  unknown_serial: 'unknown Wechatpay-Serial',
  bad_signature: 'signature does not verify',
  not_json: 'body is not JSON',
  bad_resource: 'resource lacks the documented fields',
  decrypt_failed: 'resource does not decrypt',
  unknown_event: 'event type not handled',
};

/**
 * POST /payments/wechat/notify: verify over the raw bytes, decrypt, apply
 * once. Applying is one database transaction (its side effects go to the
 * outbox), so the answer comes well within WeChat Pay's 5 s; a replica that
 * dies mid-way leaves nothing half-done, and WeChat Pay's retry applies it.
 */
@Injectable()
export class WechatPayNotifications {
  private readonly logger = new Logger('PaymentNotify');

  constructor(
    private readonly pay: WechatPay,
    private readonly payments: PaymentsService,
    private readonly refunds: RefundsService,
    private readonly metrics: PaymentMetrics,
  ) {}

  async handle(headers: SignatureHeaders, raw: Buffer): Promise<NotifyAnswer> {
    if (!this.pay.enabled) return { status: 503, message: 'WeChat Pay is not configured' };
    const result = this.pay.reader.read(headers, raw);
    if (!result.ok) {
      this.metrics.notification(result.reason);
      if (result.status === 400) this.logger.warn(`notification refused: ${result.reason}`);
      return { status: result.status, message: REFUSALS[result.reason] };
    }
    const n = result.notification;
    const outcome =
      n.kind === 'transaction'
        ? await this.payments.apply(n.transaction, 'notify')
        : await this.refunds.apply(n.refund);
    this.metrics.notification(outcome);
    if (outcome === 'mismatch') {
      return { status: 400, message: 'notification does not match its order' };
    }
    return { status: 204 };
  }
}
