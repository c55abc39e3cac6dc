export {
  SpanKind,
  activeTraceFields,
  activeTraceparent,
  contextOf,
  failSpan,
  inSpan,
  startTracing,
  tracing,
  type SpanOptions,
  type TracingOptions,
} from './tracing.js';
export { installHttpTracing } from './http-tracing.js';
export { traceDataSource } from './db-tracing.js';
export { traceRedis } from './redis-tracing.js';
export { propagateTrace } from './axios-tracing.js';
