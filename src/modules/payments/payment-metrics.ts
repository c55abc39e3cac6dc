import { Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';

/** Payments applied (by where they came from) and notifications answered, in /metrics. */
@Injectable()
export class PaymentMetrics {
  private readonly appliedTotal: Counter<'source' | 'outcome'>;
  private readonly notificationsTotal: Counter<'outcome'>;

  constructor(registry: Registry) {
    this.appliedTotal = new Counter({
      name: 'payments_applied_total',
      help: 'WeChat Pay transactions applied to orders by source (notify, query, close) and outcome (paid, duplicate, refund_started, not_paid, mismatch)',
      labelNames: ['source', 'outcome'],
      registers: [registry],
    });
    this.notificationsTotal = new Counter({
      name: 'wechat_pay_notifications_total',
      help: 'WeChat Pay notifications by outcome (applied, or why they were refused)',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }

  applied(source: string, outcome: string): void {
    this.appliedTotal.inc({ source, outcome });
  }

  notification(outcome: string): void {
    this.notificationsTotal.inc({ outcome });
  }
}
