import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import axios, { type AxiosInstance } from 'axios';
import type { Registry } from 'prom-client';
import { AppError } from '../../common/errors/index.js';
import type { AccessTokenStore, FetchedToken } from './access-token.store.js';
import { CircuitBreaker, CircuitOpenError } from './circuit-breaker.js';
import { WechatClient, type WechatPhone, type WechatSession } from './wechat-client.js';
import { sessionKeySignature } from './wechat-crypto.js';
import { ACCESS_TOKEN_INVALID, isUpstreamFailure, wechatError } from './wechat-errors.js';
import { WechatMetrics, type WechatApi, type WechatFailure } from './wechat-metrics.js';

export interface HttpWechatClientOptions {
  appId: string;
  secret: string;
  baseUrl: string;
  timeoutMs: number;
  tokens: AccessTokenStore;
  breaker?: CircuitBreaker;
  /** Where the call latency, error and breaker series go. */
  registry?: Registry;
}

type Answer = Record<string, unknown> & { errcode?: number };

/** Builds a query string with every value percent-encoded (codes may hold any byte). */
function query(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

/**
 * The real WeChat server API over axios. Errors it throws are AppErrors built
 * here, never axios errors: those carry the request URL, and the URL carries
 * the secret or the access_token.
 */
export class HttpWechatClient extends WechatClient {
  readonly appId: string;
  private readonly logger = new Logger('WeChat');
  private readonly http: AxiosInstance;
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });
  private readonly breaker: CircuitBreaker;
  private readonly metrics: WechatMetrics | undefined;

  constructor(private readonly options: HttpWechatClientOptions) {
    super();
    this.appId = options.appId;
    this.breaker =
      options.breaker ?? new CircuitBreaker({ failureThreshold: 5, cooldownMs: 10_000 });
    this.metrics =
      options.registry && new WechatMetrics(options.registry, () => this.breaker.state);
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: options.timeoutMs,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      proxy: false,
      maxRedirects: 0,
      // We parse ourselves: WeChat answers JSON as text/plain, and a non-JSON
      // answer (a proxy's error page) must become a clean 502.
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
    });
  }

  async code2session(code: string): Promise<WechatSession> {
    const answer = await this.call('code2session', () =>
      this.http.get<string>(
        `/sns/jscode2session?${query({
          appid: this.options.appId,
          secret: this.options.secret,
          js_code: code,
          grant_type: 'authorization_code',
        })}`,
      ),
    );
    const { openid, session_key: sessionKey, unionid } = answer;
    if (typeof openid !== 'string' || typeof sessionKey !== 'string' || openid.length === 0) {
      throw this.upstream('code2session', 'answer without openid/session_key', 'bad_answer');
    }
    return { openid, sessionKey, unionid: typeof unionid === 'string' ? unionid : null };
  }

  async phoneNumberByCode(code: string): Promise<WechatPhone> {
    const answer = await this.withAccessToken('getuserphonenumber', (token) =>
      this.http.post<string>(`/wxa/business/getuserphonenumber?${query({ access_token: token })}`, {
        code,
      }),
    );
    const info = answer.phone_info as Partial<WechatPhone> | undefined;
    if (typeof info?.phoneNumber !== 'string') {
      throw this.upstream('getuserphonenumber', 'answer without phone_info', 'bad_answer');
    }
    return {
      phoneNumber: info.phoneNumber,
      purePhoneNumber: String(info.purePhoneNumber ?? info.phoneNumber),
      countryCode: String(info.countryCode ?? ''),
    };
  }

  async checkSessionKey(openid: string, sessionKey: string): Promise<boolean> {
    try {
      await this.withAccessToken('checksession', (token) =>
        this.http.get<string>(
          `/wxa/checksession?${query({
            access_token: token,
            signature: sessionKeySignature(sessionKey),
            openid,
            sig_method: 'hmac_sha256',
          })}`,
        ),
      );
      return true;
    } catch (err) {
      // 87009: the signature does not match, i.e. the session_key is stale.
      if (err instanceof AppError && err.data?.errcode === 87009) return false;
      throw err;
    }
  }

  /** Closes the keep-alive sockets (application shutdown). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private fetchAccessToken = async (): Promise<FetchedToken> => {
    const answer = await this.call('stable_token', () =>
      this.http.post<string>('/cgi-bin/stable_token', {
        grant_type: 'client_credential',
        appid: this.options.appId,
        secret: this.options.secret,
        force_refresh: false,
      }),
    );
    const { access_token: token, expires_in: expiresIn } = answer;
    if (typeof token !== 'string' || typeof expiresIn !== 'number' || expiresIn <= 0) {
      throw this.upstream('stable_token', 'answer without access_token', 'bad_answer');
    }
    return { token, expiresInSec: expiresIn };
  };

  /**
   * Calls an API that takes the server access_token. When WeChat says the
   * token is invalid, the cached one is dropped (only if it is still the one
   * that failed: another replica may have replaced it) and the call is made
   * once more.
   */
  private async withAccessToken(
    api: WechatApi,
    send: (token: string) => Promise<{ status: number; data: string }>,
  ): Promise<Answer> {
    const { tokens } = this.options;
    const token = await tokens.get(this.fetchAccessToken);
    try {
      return await this.call(api, () => send(token));
    } catch (err) {
      const errcode = err instanceof AppError ? err.data?.errcode : undefined;
      if (typeof errcode !== 'number' || !ACCESS_TOKEN_INVALID.has(errcode)) throw err;
      await tokens.invalidate(token);
      const fresh = await tokens.get(this.fetchAccessToken);
      return this.call(api, () => send(fresh));
    }
  }

  /** One HTTP exchange through the breaker; maps every failure to an AppError. */
  private async call(
    api: WechatApi,
    send: () => Promise<{ status: number; data: string }>,
  ): Promise<Answer> {
    try {
      return await this.breaker.run(() => this.exchange(api, send), isUpstreamFailure);
    } catch (err) {
      if (err instanceof CircuitOpenError) {
        this.metrics?.failed(api, 'circuit_open');
        throw new AppError('WECHAT_UPSTREAM', 'WeChat temporarily unavailable');
      }
      throw err;
    }
  }

  private async exchange(
    api: WechatApi,
    send: () => Promise<{ status: number; data: string }>,
  ): Promise<Answer> {
    let response: { status: number; data: string };
    const started = performance.now();
    try {
      response = await send();
    } catch (err) {
      this.metrics?.observe(api, (performance.now() - started) / 1000);
      const code = (err as { code?: unknown }).code;
      const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
      throw this.upstream(
        api,
        timedOut ? 'timeout' : String(code),
        timedOut ? 'timeout' : 'network',
      );
    }
    this.metrics?.observe(api, (performance.now() - started) / 1000);
    if (response.status >= 500) throw this.upstream(api, `http ${response.status}`, 'http_5xx');
    let answer: unknown;
    try {
      answer = JSON.parse(response.data);
    } catch {
      throw this.upstream(api, 'non-JSON answer', 'bad_answer');
    }
    if (typeof answer !== 'object' || answer === null)
      throw this.upstream(api, 'non-object answer', 'bad_answer');
    const errcode = (answer as Answer).errcode;
    if (typeof errcode === 'number' && errcode !== 0) {
      this.logger.warn(`${api} refused: errcode ${errcode}`);
      this.metrics?.failed(api, errcode);
      throw wechatError(errcode);
    }
    return answer as Answer;
  }

  private upstream(api: WechatApi, reason: string, failure: WechatFailure): AppError {
    this.logger.warn(`${api} failed: ${reason}`);
    this.metrics?.failed(api, failure);
    return new AppError('WECHAT_UPSTREAM');
  }
}
