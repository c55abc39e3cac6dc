import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BreakerState } from '../../infra/resilience/index.js';

export const WECHAT_APIS = [
  'code2session',
  'stable_token',
  'getuserphonenumber',
  'checksession',
  'msg_sec_check',
  'media_check_async',
  'getwxacodeunlimit',
  'subscribe_send',
  'upload_shipping_info',
  'is_trade_managed',
  'get_order',
  'notify_confirm_receive',
  'set_msg_jump_path',
] as const;
export type WechatApi = (typeof WECHAT_APIS)[number];

/** Why a call failed without an errcode. */
export type WechatFailure = 'timeout' | 'network' | 'http_5xx' | 'bad_answer' | 'circuit_open';

// errcodes the client handles or an operator acts on (40013/40125: wrong
// appid/secret in the config; 45009: daily quota; 61010: content check for a
// user not seen in two hours). Any other becomes 'other', so a misbehaving
// upstream cannot grow the label set.
const KNOWN_ERRCODES = new Set([
  -1, 40001, 40003, 40013, 40014, 40029, 40037, 40125, 40163, 40169, 40226, 41030, 42001, 43101,
  45009, 45011, 47001, 47003, 61010, 87009, 10060001, 10060002, 10060003, 10060019, 268485216,
]);

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** WeChat call latency, failures and the circuit breaker, in /metrics. */
export class WechatMetrics {
  private readonly latency: Histogram<'api'>;
  private readonly errors: Counter<'api' | 'errcode'>;

  constructor(registry: Registry, breakerState: (api: WechatApi) => BreakerState) {
    this.latency = new Histogram({
      name: 'wechat_request_duration_seconds',
      help: 'Latency of WeChat API calls (each HTTP exchange, failed ones included) by api',
      labelNames: ['api'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.errors = new Counter({
      name: 'wechat_errors_total',
      help: 'Failed WeChat calls by api and errcode (known errcodes, other, or timeout/network/http_5xx/bad_answer/circuit_open)',
      labelNames: ['api', 'errcode'],
      registers: [registry],
    });
    new Gauge({
      name: 'wechat_circuit_breaker_state',
      help: 'WeChat circuit breaker of each api: 0 closed, 1 half-open, 2 open',
      labelNames: ['api'],
      registers: [registry],
      collect() {
        for (const api of WECHAT_APIS) this.set({ api }, BREAKER_VALUE[breakerState(api)]);
      },
    });
  }

  observe(api: WechatApi, seconds: number): void {
    this.latency.observe({ api }, seconds);
  }

  failed(api: WechatApi, reason: number | WechatFailure): void {
    const errcode =
      typeof reason === 'number' ? (KNOWN_ERRCODES.has(reason) ? String(reason) : 'other') : reason;
    this.errors.inc({ api, errcode });
  }
}
