import type { AxiosInstance } from 'axios';
import { activeTraceparent, tracing } from './tracing.js';

/**
 * Sends the active span's W3C `traceparent` with every request of `http`,
 * so WeChat's side (or the fake in tests, or an egress proxy) can join the
 * trace. Installs nothing when tracing is off.
 */
export function propagateTrace(http: AxiosInstance): void {
  if (!tracing()) return;
  http.interceptors.request.use(
    (config) => {
      const traceparent = activeTraceparent();
      if (traceparent) config.headers.set('traceparent', traceparent);
      return config;
    },
    undefined,
    // Synchronous: the request goes out in the caller's context, with no extra tick.
    { synchronous: true },
  );
}
