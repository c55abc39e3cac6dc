// The WeChat client's breaker (one instance per upstream, never shared).
export { CircuitBreaker, CircuitOpenError } from '../../auth/wechat/circuit-breaker.js';
export type { BreakerState } from '../../auth/wechat/circuit-breaker.js';
