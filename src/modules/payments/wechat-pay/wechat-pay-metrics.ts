import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BreakerState } from '../../../infra/resilience/index.js';

export type WechatPayApi = 'prepay' | 'query' | 'close' | 'refund' | 'refund_query';

/**
 * How one call ended. `refused`: a verified business error (4xx with a code);
 * `not_found`: a verified 404 the caller expects (no such order/refund).
 */
export type WechatPayOutcome =
  | 'ok'
  | 'not_found'
  | 'refused'
  | 'timeout'
  | 'network'
  | 'http_5xx'
  | 'bad_answer'
  | 'bad_signature'
  | 'circuit_open';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** WeChat Pay calls by api and outcome, their latency and the breaker, in /metrics. */
export class WechatPayMetrics {
  private readonly latency: Histogram<'api'>;
  private readonly calls: Counter<'api' | 'outcome'>;

  constructor(registry: Registry, breakerState: () => BreakerState) {
    this.latency = new Histogram({
      name: 'wechat_pay_request_duration_seconds',
      help: 'Latency of WeChat Pay API calls (each HTTP exchange, failed ones included) by api',
      labelNames: ['api'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.calls = new Counter({
      name: 'wechat_pay_requests_total',
      help: 'WeChat Pay API calls by api and outcome (ok, not_found, refused, timeout, network, http_5xx, bad_answer, bad_signature, circuit_open)',
      labelNames: ['api', 'outcome'],
      registers: [registry],
    });
    new Gauge({
      name: 'wechat_pay_circuit_breaker_state',
      help: 'WeChat Pay circuit breaker: 0 closed, 1 half-open, 2 open',
      registers: [registry],
      collect() {
        this.set(BREAKER_VALUE[breakerState()]);
      },
    });
  }

  observe(api: WechatPayApi, seconds: number): void {
    this.latency.observe({ api }, seconds);
  }

  count(api: WechatPayApi, outcome: WechatPayOutcome): void {
    this.calls.inc({ api, outcome });
  }
}
