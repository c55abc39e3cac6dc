import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type { AxiosInstance } from 'axios';
import type { Registry } from 'prom-client';
import { AppError, DeadlineExceededError } from '../../common/errors/index.js';
import { callTimeout, type CallTimeout } from '../../common/http/index.js';
import { SpanKind, inSpan } from '../../infra/tracing/index.js';
import {
  createUpstreamHttp,
  upstreamBreaker,
  type UpstreamHttp,
} from '../../infra/upstream/index.js';
import type { AccessTokenStore, FetchedToken } from './access-token.store.js';
import {
  CircuitOpenError,
  type CircuitBreaker,
  type CircuitBreakerOptions,
} from '../../infra/resilience/index.js';
import {
  WechatClient,
  type ContentCheck,
  type ContentVerdict,
  type ShippingOrderState,
  type ShippingOutcome,
  type ShippingUpload,
  type SubscribeMessage,
  type SubscribeOutcome,
  type WechatPhone,
  type WechatSession,
  type WxaCodeImage,
  type WxaCodeRequest,
} from './wechat-client.js';
import { sessionKeySignature } from './wechat-crypto.js';
import {
  ACCESS_TOKEN_INVALID,
  SUBSCRIBE_NO_CREDIT,
  SHIPPING_ALREADY_UPLOADED,
  SHIPPING_NO_SUCH_ORDER,
  SHIPPING_RETRYABLE,
  SUBSCRIBE_REJECTED,
  ShippingRejected,
  SubscribeRejected,
  WechatUnavailable,
  isUpstreamFailure,
  ridOf,
  wechatError,
} from './wechat-errors.js';
import {
  WECHAT_APIS,
  WechatMetrics,
  type WechatApi,
  type WechatFailure,
} from './wechat-metrics.js';

export interface HttpWechatClientOptions {
  appId: string;
  secret: string;
  baseUrl: string;
  timeoutMs: number;
  tokens: AccessTokenStore;
  /** Settings of each API's own breaker (default: 5 consecutive failures, 10 s). */
  breaker?: CircuitBreakerOptions;
  /** Where the call latency, error and breaker series go. */
  registry?: Registry;
}

type Answer = Record<string, unknown> & { errcode?: number; errmsg?: unknown };

interface WechatRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

interface Reply {
  status: number;
  contentType: string;
  body: Buffer;
}

const SUGGESTIONS = new Set(['pass', 'review', 'risky']);

/**
 * Builds a query string with every value percent-encoded (codes may hold any
 * byte). A value that cannot be encoded (a lone surrogate) is the caller's
 * fault: validation should have refused it, and it must never reach the
 * breaker as if WeChat had failed.
 */
function query(params: Record<string, string>): string {
  try {
    return Object.entries(params)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
  } catch {
    throw new AppError('VALIDATION_FAILED', 'a value cannot be sent to WeChat');
  }
}

/**
 * The real WeChat server API over axios. Errors it throws are AppErrors built
 * here, never axios errors: those carry the request URL, and the URL carries
 * the secret or the access_token. Each API has its own breaker, so an outage
 * of one (or a client hammering one) never stops the others.
 */
export class HttpWechatClient extends WechatClient {
  readonly appId: string;
  private readonly logger = new Logger('WeChat');
  private readonly upstream: UpstreamHttp;
  private readonly http: AxiosInstance;
  private readonly breakers: ReadonlyMap<WechatApi, CircuitBreaker>;
  private readonly metrics: WechatMetrics | undefined;

  constructor(private readonly options: HttpWechatClientOptions) {
    super();
    this.appId = options.appId;
    this.breakers = new Map(WECHAT_APIS.map((api) => [api, upstreamBreaker(options.breaker)]));
    this.metrics =
      options.registry && new WechatMetrics(options.registry, (api) => this.breakerState(api));
    // Raw bytes, parsed here: WeChat answers JSON as text/plain,
    // getwxacodeunlimit answers an image, and a non-JSON answer (a proxy's
    // error page) must become a clean 502.
    this.upstream = createUpstreamHttp({ baseUrl: options.baseUrl, timeoutMs: options.timeoutMs });
    this.http = this.upstream.http;
  }

  /** The state of one API's breaker (metrics, tests). */
  breakerState(api: WechatApi) {
    return this.breakers.get(api)!.state;
  }

  async code2session(code: string): Promise<WechatSession> {
    const answer = this.json(
      'code2session',
      await this.call('code2session', {
        method: 'GET',
        path: '/sns/jscode2session',
        query: {
          appid: this.options.appId,
          secret: this.options.secret,
          js_code: code,
          grant_type: 'authorization_code',
        },
      }),
    );
    const { openid, session_key: sessionKey, unionid } = answer;
    if (typeof openid !== 'string' || typeof sessionKey !== 'string' || openid.length === 0) {
      throw this.unavailable('code2session', 'answer without openid/session_key', 'bad_answer');
    }
    return { openid, sessionKey, unionid: typeof unionid === 'string' ? unionid : null };
  }

  async phoneNumberByCode(code: string, openid?: string): Promise<WechatPhone> {
    const answer = await this.jsonWithToken('getuserphonenumber', {
      method: 'POST',
      path: '/wxa/business/getuserphonenumber',
      body: openid === undefined ? { code } : { code, openid },
    });
    const info = answer.phone_info as Partial<WechatPhone> | undefined;
    if (typeof info?.phoneNumber !== 'string') {
      throw this.unavailable('getuserphonenumber', 'answer without phone_info', 'bad_answer');
    }
    return {
      phoneNumber: info.phoneNumber,
      purePhoneNumber: String(info.purePhoneNumber ?? info.phoneNumber),
      countryCode: String(info.countryCode ?? ''),
    };
  }

  async checkSessionKey(openid: string, sessionKey: string): Promise<boolean> {
    try {
      await this.jsonWithToken('checksession', {
        method: 'GET',
        path: '/wxa/checksession',
        query: { signature: sessionKeySignature(sessionKey), openid, sig_method: 'hmac_sha256' },
      });
      return true;
    } catch (err) {
      // 87009: the signature does not match, i.e. the session_key is stale.
      if (err instanceof AppError && err.data?.errcode === 87009) return false;
      throw err;
    }
  }

  async checkText(check: ContentCheck): Promise<ContentVerdict> {
    const answer = await this.jsonWithToken('msg_sec_check', {
      method: 'POST',
      path: '/wxa/msg_sec_check',
      body: { version: 2, openid: check.openid, scene: check.scene, content: check.content },
    });
    // The decision is result.suggest; errcode 0 only says the check ran.
    const result = answer.result as { suggest?: unknown; label?: unknown } | undefined;
    if (typeof result?.suggest !== 'string' || !SUGGESTIONS.has(result.suggest)) {
      throw this.unavailable('msg_sec_check', 'answer without result.suggest', 'bad_answer');
    }
    return {
      suggest: result.suggest as ContentVerdict['suggest'],
      label: typeof result.label === 'number' ? result.label : 0,
    };
  }

  async requestImageCheck(mediaUrl: string, openid: string): Promise<string> {
    const answer = await this.jsonWithToken('media_check_async', {
      method: 'POST',
      path: '/wxa/media_check_async',
      // scene 1: a profile (the avatar).
      body: { media_url: mediaUrl, media_type: 2, version: 2, openid, scene: 1 },
    });
    if (typeof answer.trace_id !== 'string' || answer.trace_id === '') {
      throw this.unavailable('media_check_async', 'answer without trace_id', 'bad_answer');
    }
    return answer.trace_id;
  }

  async wxaCodeUnlimited(request: WxaCodeRequest): Promise<WxaCodeImage> {
    const body: Record<string, unknown> = { scene: request.scene, check_path: true };
    if (request.page !== undefined) body.page = request.page;
    if (request.width !== undefined) body.width = request.width;
    const reply = await this.withAccessToken('getwxacodeunlimit', {
      method: 'POST',
      path: '/wxa/getwxacodeunlimit',
      body,
    });
    // Success is the image itself; an error is JSON (with whatever type).
    if (reply.contentType.startsWith('image/') && reply.body.length > 0) {
      return { contentType: reply.contentType.split(';')[0].trim(), body: reply.body };
    }
    this.json('getwxacodeunlimit', reply);
    throw this.unavailable('getwxacodeunlimit', 'JSON answer without an error', 'bad_answer');
  }

  async sendSubscribeMessage(message: SubscribeMessage): Promise<SubscribeOutcome> {
    const data = Object.fromEntries(
      Object.entries(message.data).map(([key, value]) => [key, { value }]),
    );
    const reply = await this.withAccessToken('subscribe_send', {
      method: 'POST',
      path: '/cgi-bin/message/subscribe/send',
      body: {
        touser: message.openid,
        template_id: message.templateId,
        data,
        miniprogram_state: message.miniprogramState,
        lang: 'zh_CN',
        ...(message.page === undefined ? {} : { page: message.page }),
      },
    });
    const answer = this.parse(reply);
    const errcode = answer?.errcode;
    if (answer && errcode === SUBSCRIBE_NO_CREDIT) {
      this.refused('subscribe_send', answer);
      return 'refused';
    }
    if (answer && typeof errcode === 'number' && SUBSCRIBE_REJECTED.has(errcode)) {
      this.refused('subscribe_send', answer);
      const errmsg = typeof answer.errmsg === 'string' ? answer.errmsg : '';
      throw new SubscribeRejected(errcode, errmsg);
    }
    this.json('subscribe_send', reply);
    return 'sent';
  }

  async uploadShippingInfo(upload: ShippingUpload): Promise<ShippingOutcome> {
    const { orderKey } = upload;
    const reply = await this.withAccessToken('upload_shipping_info', {
      method: 'POST',
      path: '/wxa/sec/order/upload_shipping_info',
      body: {
        order_key:
          orderKey.type === 2
            ? { order_number_type: 2, transaction_id: orderKey.transactionId }
            : { order_number_type: 1, mchid: orderKey.mchid, out_trade_no: orderKey.outTradeNo },
        logistics_type: upload.logisticsType,
        // 2: split delivery, every parcel in this one upload (is_all_delivered).
        ...(upload.shippingList.length > 1
          ? { delivery_mode: 2, is_all_delivered: true }
          : { delivery_mode: 1 }),
        shipping_list: upload.shippingList.map((parcel) => ({
          item_desc: parcel.itemDesc,
          ...(parcel.trackingNo === null ? {} : { tracking_no: parcel.trackingNo }),
          ...(parcel.expressCompany === null ? {} : { express_company: parcel.expressCompany }),
        })),
        upload_time: upload.uploadTime,
        payer: { openid: upload.payerOpenid },
      },
    });
    const answer = this.parse(reply);
    const errcode = answer?.errcode;
    if (answer && errcode === SHIPPING_ALREADY_UPLOADED) {
      this.refused('upload_shipping_info', answer);
      return 'already';
    }
    if (
      answer &&
      typeof errcode === 'number' &&
      errcode !== 0 &&
      !ACCESS_TOKEN_INVALID.has(errcode) &&
      !SHIPPING_RETRYABLE.has(errcode)
    ) {
      this.refused('upload_shipping_info', answer);
      const errmsg = typeof answer.errmsg === 'string' ? answer.errmsg : '';
      throw new ShippingRejected(errcode, errmsg);
    }
    this.json('upload_shipping_info', reply);
    return 'uploaded';
  }

  async shippingOrderState(
    orderKey: ShippingUpload['orderKey'],
  ): Promise<ShippingOrderState | null> {
    const reply = await this.withAccessToken('get_order', {
      method: 'POST',
      path: '/wxa/sec/order/get_order',
      body:
        orderKey.type === 2
          ? { transaction_id: orderKey.transactionId }
          : { merchant_id: orderKey.mchid, merchant_trade_no: orderKey.outTradeNo },
    });
    const answer = this.parse(reply);
    if (answer?.errcode === SHIPPING_NO_SUCH_ORDER) {
      this.refused('get_order', answer);
      return null;
    }
    const order = this.json('get_order', reply).order as { order_state?: unknown } | undefined;
    const state = order?.order_state;
    if (typeof state !== 'number' || !Number.isInteger(state) || state < 1 || state > 6) {
      throw this.unavailable('get_order', 'answer without order.order_state', 'bad_answer');
    }
    return state as ShippingOrderState;
  }

  async notifyConfirmReceive(
    orderKey: ShippingUpload['orderKey'],
    receivedAt: Date,
  ): Promise<void> {
    await this.jsonWithToken('notify_confirm_receive', {
      method: 'POST',
      path: '/wxa/sec/order/notify_confirm_receive',
      body: {
        ...(orderKey.type === 2
          ? { transaction_id: orderKey.transactionId }
          : { merchant_id: orderKey.mchid, merchant_trade_no: orderKey.outTradeNo }),
        received_time: Math.floor(receivedAt.getTime() / 1000),
      },
    });
  }

  async isTradeManaged(): Promise<boolean> {
    const answer = await this.jsonWithToken('is_trade_managed', {
      method: 'POST',
      path: '/wxa/sec/order/is_trade_managed',
      body: { appid: this.options.appId },
    });
    if (typeof answer.is_trade_managed !== 'boolean') {
      throw this.unavailable('is_trade_managed', 'answer without is_trade_managed', 'bad_answer');
    }
    return answer.is_trade_managed;
  }

  async setMsgJumpPath(path: string): Promise<void> {
    await this.jsonWithToken('set_msg_jump_path', {
      method: 'POST',
      path: '/wxa/sec/order/set_msg_jump_path',
      body: { path },
    });
  }

  /** Closes the keep-alive sockets (application shutdown). */
  close(): void {
    this.upstream.close();
  }

  private fetchAccessToken = async (): Promise<FetchedToken> => {
    const answer = this.json(
      'stable_token',
      await this.call('stable_token', {
        method: 'POST',
        path: '/cgi-bin/stable_token',
        body: {
          grant_type: 'client_credential',
          appid: this.options.appId,
          secret: this.options.secret,
          force_refresh: false,
        },
      }),
    );
    const { access_token: token, expires_in: expiresIn } = answer;
    if (typeof token !== 'string' || typeof expiresIn !== 'number' || expiresIn <= 0) {
      throw this.unavailable('stable_token', 'answer without access_token', 'bad_answer');
    }
    return { token, expiresInSec: expiresIn };
  };

  private async jsonWithToken(api: WechatApi, request: WechatRequest): Promise<Answer> {
    return this.json(api, await this.withAccessToken(api, request));
  }

  /**
   * Calls an API that takes the server access_token. When WeChat says the
   * token is dead (40001/40014/42001), the cached one is dropped (only if it
   * is still the one that failed: another replica may have replaced it) and
   * the call is made once more.
   */
  private async withAccessToken(api: WechatApi, request: WechatRequest): Promise<Reply> {
    const { tokens } = this.options;
    const send = async (token: string) => {
      const reply = await this.call(api, {
        ...request,
        query: { access_token: token, ...request.query },
      });
      const errcode = this.errcodeOf(reply);
      return { reply, dead: errcode !== undefined && ACCESS_TOKEN_INVALID.has(errcode) };
    };
    const token = await tokens.get(this.fetchAccessToken);
    const first = await send(token);
    if (!first.dead) return first.reply;
    this.json(api, first.reply, true);
    await tokens.invalidate(token);
    const retried = await send(await tokens.get(this.fetchAccessToken));
    return retried.reply;
  }

  /** One HTTP exchange through the API's breaker. */
  private async call(api: WechatApi, request: WechatRequest): Promise<Reply> {
    // Built before the breaker: input that cannot be sent is not an outage.
    const url = request.query ? `${request.path}?${query(request.query)}` : request.path;
    const breaker = this.breakers.get(api)!;
    // A spent budget stops here, before the breaker: not sending is no outage.
    const timeout = callTimeout(this.options.timeoutMs);
    try {
      // Named by the api only: the URL carries the access token.
      return await inSpan(
        `wechat ${api}`,
        { kind: SpanKind.CLIENT, attributes: { 'wechat.api': api } },
        () =>
          breaker.run(
            () => this.exchange(api, request.method, url, request.body, timeout),
            (err) => isUpstreamFailure(err),
          ),
      );
    } catch (err) {
      if (err instanceof CircuitOpenError) {
        this.metrics?.failed(api, 'circuit_open');
        throw new WechatUnavailable('WeChat temporarily unavailable');
      }
      throw err;
    }
  }

  /**
   * Sends and classifies what says WeChat is unwell (transport, timeout,
   * 5xx, an unparsable answer, errcode -1). Other errcodes are left in the
   * reply for the caller: they are answers, not failures.
   */
  private async exchange(
    api: WechatApi,
    method: WechatRequest['method'],
    url: string,
    body: unknown,
    timeout: CallTimeout,
  ): Promise<Reply> {
    let response: { status: number; data: ArrayBuffer; headers: Record<string, unknown> };
    const started = performance.now();
    try {
      response = await this.http.request({ method, url, data: body, timeout: timeout.ms });
    } catch (err) {
      this.metrics?.observe(api, (performance.now() - started) / 1000);
      const code = (err as { code?: unknown }).code;
      const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
      // Our deadline, not WeChat's slowness: no breaker failure, no upstream error.
      if (timedOut && timeout.byBudget) throw new DeadlineExceededError();
      throw this.unavailable(
        api,
        timedOut ? 'timeout' : String(code),
        timedOut ? 'timeout' : 'network',
      );
    }
    this.metrics?.observe(api, (performance.now() - started) / 1000);
    if (response.status >= 500) throw this.unavailable(api, `http ${response.status}`, 'http_5xx');
    const header = response.headers['content-type'];
    const contentType = typeof header === 'string' ? header.toLowerCase() : '';
    const reply = { status: response.status, contentType, body: Buffer.from(response.data) };
    if (contentType.startsWith('image/')) return reply;
    const answer = this.parse(reply);
    if (answer === undefined) throw this.unavailable(api, 'non-JSON answer', 'bad_answer');
    if (answer.errcode === -1) throw this.refused(api, answer);
    return reply;
  }

  private parse(reply: Reply): Answer | undefined {
    try {
      const answer: unknown = JSON.parse(reply.body.toString('utf8'));
      return typeof answer === 'object' && answer !== null && !Array.isArray(answer)
        ? (answer as Answer)
        : undefined;
    } catch {
      return undefined;
    }
  }

  private errcodeOf(reply: Reply): number | undefined {
    const errcode = reply.contentType.startsWith('image/') ? undefined : this.parse(reply)?.errcode;
    return typeof errcode === 'number' && errcode !== 0 ? errcode : undefined;
  }

  /**
   * The JSON answer, or the error its errcode maps to. `logOnly` records a
   * refusal that is handled (a dead token before its retry) without throwing.
   */
  private json(api: WechatApi, reply: Reply, logOnly = false): Answer {
    const answer = this.parse(reply);
    if (answer === undefined) throw this.unavailable(api, 'non-JSON answer', 'bad_answer');
    const errcode = answer.errcode;
    if (typeof errcode === 'number' && errcode !== 0) {
      const err = this.refused(api, answer);
      if (!logOnly) throw err;
    }
    return answer;
  }

  /** Logs the errcode and WeChat's rid (never the errmsg, the URL or a secret). */
  private refused(api: WechatApi, answer: Answer): AppError {
    const errcode = answer.errcode as number;
    const rid = ridOf(answer.errmsg);
    this.logger.warn(`${api} refused: errcode ${errcode}${rid ? ` rid ${rid}` : ''}`);
    this.metrics?.failed(api, errcode);
    return wechatError(api, errcode);
  }

  private unavailable(api: WechatApi, reason: string, failure: WechatFailure): AppError {
    this.logger.warn(`${api} failed: ${reason}`);
    this.metrics?.failed(api, failure);
    return new WechatUnavailable();
  }
}
