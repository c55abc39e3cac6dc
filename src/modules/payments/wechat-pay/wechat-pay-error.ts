import { AppError } from '../../../common/errors/index.js';
import type { WechatPayOutcome } from './wechat-pay-metrics.js';

/** Failures that say WeChat Pay is unwell: only these move the circuit breaker. */
const UPSTREAM_UNWELL = new Set<WechatPayOutcome>(['timeout', 'network', 'http_5xx', 'bad_answer']);

/**
 * A WeChat Pay call that did not give a usable answer: 502/50210 to our
 * client. `payCode` is WeChat Pay's own error code when it refused the
 * request with a verified answer (e.g. ORDERPAID, NOT_ENOUGH); the caller
 * may act on it. The message never carries request or key material.
 */
export class WechatPayError extends AppError {
  constructor(
    readonly outcome: WechatPayOutcome,
    readonly payCode?: string,
  ) {
    super('WECHAT_PAY_UPSTREAM');
  }
}

export const isUpstreamUnwell = (err: unknown): boolean =>
  err instanceof WechatPayError && UPSTREAM_UNWELL.has(err.outcome);
