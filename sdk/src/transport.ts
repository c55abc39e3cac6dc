import { ApiError, NetworkError } from './errors.js';
import type { Wx, WxRequestSuccess } from './wx.js';

/** wx.request's methods that the backend uses (wx.request has no PATCH). */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Call {
  method: HttpMethod;
  /** Under the base URL: `/orders/7`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Made per logical request and sent on every attempt, so a retry cannot act twice. */
  idempotencyKey?: string;
  /**
   * The backend answers a repeat of this call as it answered the first one,
   * without acting twice: POST /auth/refresh with the same token, within
   * 10 s of its rotation, gets the same new refresh token.
   */
  repeatable?: boolean;
}

export interface RetryPolicy {
  /** Further attempts after the first (default 2). */
  retries: number;
  /** First backoff; doubled per attempt, with jitter (default 300 ms). */
  baseDelayMs: number;
  /** Longest wait before an attempt, Retry-After included (default 5 s). */
  maxDelayMs: number;
}

// The mini-program runtime's timer, declared here: the SDK compiles without Node or DOM typings.
declare const setTimeout: (callback: () => void, ms: number) => unknown;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Only a request that cannot act twice is repeated: a GET, a write the
 * backend deduplicates by its Idempotency-Key, or one it answers the same way
 * when repeated. Anything else could, after a lost answer, place a second
 * order or cancel twice.
 */
export const isRetryable = (call: Call) =>
  call.method === 'GET' || call.idempotencyKey !== undefined || call.repeatable === true;

/**
 * Worth another attempt: no answer, throttled, or the backend briefly unable.
 * 50301 is a 503 too, but an operator switched the feature off: retrying
 * only adds load until they switch it back on.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  if (!(err instanceof ApiError) || err.code === 50301) return false;
  return err.status === 429 || err.status === 500 || err.status === 502 || err.status === 503;
}

function header(res: WxRequestSuccess, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(res.header ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

function queryString(query: Call['query']): string {
  const parts = Object.entries(query ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

interface Envelope {
  code: number;
  message?: string;
  data?: unknown;
  requestId?: string;
}

const isEnvelope = (body: unknown): body is Envelope =>
  typeof body === 'object' && body !== null && typeof (body as Envelope).code === 'number';

/** One HTTP exchange through wx.request, the envelope unwrapped: `data`, or an ApiError. */
export class Transport {
  constructor(
    private readonly wx: Wx,
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    readonly retry: RetryPolicy,
  ) {}

  private exchange(call: Call, token: string | undefined): Promise<WxRequestSuccess> {
    const header: Record<string, string> = { ...call.headers };
    if (call.body !== undefined) header['Content-Type'] = 'application/json';
    if (token) header.Authorization = `Bearer ${token}`;
    if (call.idempotencyKey) header['Idempotency-Key'] = call.idempotencyKey;
    return new Promise((resolve, reject) => {
      this.wx.request({
        url: `${this.baseUrl}${call.path}${queryString(call.query)}`,
        method: call.method,
        // Sent as text: wx.request would otherwise form-encode an object on some methods.
        data: call.body === undefined ? undefined : JSON.stringify(call.body),
        header,
        timeout: this.timeoutMs,
        dataType: 'json',
        success: resolve,
        fail: (err) => reject(new NetworkError(err.errMsg)),
      });
    });
  }

  /** One attempt: the answer's `data`, or the ApiError its envelope carries. */
  async once(call: Call, token?: string): Promise<unknown> {
    const res = await this.exchange(call, token);
    let body = res.data;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body) as unknown;
      } catch {
        // Not JSON (a proxy's error page): described by its status alone below.
      }
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      return isEnvelope(body) ? body.data : body;
    }
    const envelope = isEnvelope(body) ? body : { code: res.statusCode * 100 };
    const err = new ApiError(res.statusCode, envelope);
    const retryAfter = Number(header(res, 'retry-after'));
    if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfters.set(err, retryAfter * 1000);
    throw err;
  }

  /** Attempts `send` again on a transient failure when the call allows it, with backoff. */
  async withRetries<T>(call: Call, send: () => Promise<T>): Promise<T> {
    const attempts = isRetryable(call) ? this.retry.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        if (attempt >= attempts || !isTransient(err)) throw err;
        const backoff = this.retry.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
        const wait = (err instanceof ApiError && retryAfters.get(err)) || backoff;
        await sleep(Math.min(wait, this.retry.maxDelayMs));
      }
    }
  }
}

/** The Retry-After of a refusal, kept beside the error rather than on its public surface. */
const retryAfters = new WeakMap<ApiError, number>();
