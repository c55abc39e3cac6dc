export {
  CircuitBreaker,
  CircuitOpenError,
  type BreakerState,
  type CircuitBreakerOptions,
} from './circuit-breaker.js';
