import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import { CircuitBreaker, type CircuitBreakerOptions } from '../resilience/index.js';
import { propagateTrace } from '../tracing/index.js';

/** Consecutive failures that open an upstream's breaker, and how long it stays open. */
const UPSTREAM_BREAKER: CircuitBreakerOptions = { failureThreshold: 5, cooldownMs: 10_000 };

/** A breaker for one upstream API, with the given settings or the defaults. */
export function upstreamBreaker(options: CircuitBreakerOptions = UPSTREAM_BREAKER): CircuitBreaker {
  return new CircuitBreaker(options);
}

export interface UpstreamHttpOptions {
  baseUrl: string;
  /** Each call's timeout unless the call passes a shorter one (its request budget). */
  timeoutMs: number;
  /**
   * Send the request body as given (a string already serialized), not
   * JSON-encoded by axios: WeChat Pay signs the exact bytes sent.
   */
  rawBody?: boolean;
}

export interface UpstreamHttp {
  http: AxiosInstance;
  /** Closes the keep-alive sockets (application shutdown). */
  close(): void;
}

/**
 * The axios instance of a third-party API (WeChat, WeChat Pay): keep-alive
 * sockets (at most 64 per host), no proxy from the environment, no redirects,
 * the answer as raw bytes whatever its status (the client parses and judges
 * it: a proxy's HTML error page must become a clean 502, and a signature
 * covers the bytes as received), and the trace propagated when tracing is on.
 */
export function createUpstreamHttp(options: UpstreamHttpOptions): UpstreamHttp {
  const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });
  const http = axios.create({
    baseURL: options.baseUrl,
    timeout: options.timeoutMs,
    httpAgent,
    httpsAgent,
    proxy: false,
    maxRedirects: 0,
    responseType: 'arraybuffer',
    transformResponse: [(data: unknown) => data],
    ...(options.rawBody ? { transformRequest: [(data: unknown) => data] } : {}),
    validateStatus: () => true,
  });
  propagateTrace(http);
  return {
    http,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
