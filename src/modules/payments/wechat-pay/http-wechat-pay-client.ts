import type { KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type { AxiosInstance } from 'axios';
import type { Registry } from 'prom-client';
import { BadAnswerError, parseRefund, parseTransaction } from './answers.js';
import { DeadlineExceededError } from '../../../common/errors/index.js';
import { callTimeout, type CallTimeout } from '../../../common/http/index.js';
import { CircuitOpenError, type CircuitBreaker } from '../../../infra/resilience/index.js';
import { SpanKind, inSpan } from '../../../infra/tracing/index.js';
import {
  createUpstreamHttp,
  upstreamBreaker,
  type UpstreamHttp,
} from '../../../infra/upstream/index.js';
import {
  authorization,
  jsapiPayParams,
  nonce,
  requestMessage,
  sign,
  unixSeconds,
} from './signing.js';
import type { JsapiPayParams } from './signing.js';
import { signatureHeaders, type WechatPayVerifier } from './verifier.js';
import {
  WechatPayClient,
  type PayRefund,
  type PayTransaction,
  type PrepayRequest,
  type RefundRequest,
} from './wechat-pay-client.js';
import { WechatPayError, isUpstreamUnwell } from './wechat-pay-error.js';
import {
  WechatPayMetrics,
  type WechatPayApi,
  type WechatPayOutcome,
} from './wechat-pay-metrics.js';

export interface HttpWechatPayClientOptions {
  appId: string;
  mchId: string;
  /** Serial of the merchant API certificate (`serial_no` of Authorization). */
  merchantSerial: string;
  privateKey: KeyObject;
  verifier: WechatPayVerifier;
  /**
   * In public-key mode, sent as `Wechatpay-Serial` so that WeChat Pay signs
   * its answers with that key (not a platform certificate) during a switch.
   */
  publicKeyId: string | undefined;
  notifyUrl: string;
  baseUrl: string;
  timeoutMs: number;
  registry?: Registry;
  breaker?: CircuitBreaker;
}

interface Answer {
  status: number;
  json: unknown;
}

const enc = encodeURIComponent;

/**
 * WeChat Pay API v3 over axios, signatures with node:crypto (README: why not
 * wechatpay-axios-plugin). Every answer, error answers included, is verified
 * before anything in it is read; one that fails is a 502/50210, never
 * trusted. Errors thrown are WechatPayErrors built here, never axios errors
 * (those hold the request, headers included).
 */
export class HttpWechatPayClient extends WechatPayClient {
  readonly appId: string;
  readonly mchId: string;
  private readonly logger = new Logger('WechatPay');
  private readonly upstream: UpstreamHttp;
  private readonly http: AxiosInstance;
  private readonly breaker: CircuitBreaker;
  private readonly metrics: WechatPayMetrics | undefined;
  private readonly basePath: string;

  constructor(private readonly options: HttpWechatPayClientOptions) {
    super();
    this.appId = options.appId;
    this.mchId = options.mchId;
    this.breaker = options.breaker ?? upstreamBreaker();
    this.metrics =
      options.registry && new WechatPayMetrics(options.registry, () => this.breaker.state);
    this.basePath = new URL(options.baseUrl).pathname.replace(/\/+$/, '');
    // The signatures cover the bytes as sent and as received: both stay raw
    // (verify, then parse).
    this.upstream = createUpstreamHttp({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      timeoutMs: options.timeoutMs,
      rawBody: true,
    });
    this.http = this.upstream.http;
  }

  async prepay(req: PrepayRequest): Promise<string> {
    const { json } = await this.call('prepay', 'POST', '/v3/pay/transactions/jsapi', {
      appid: this.appId,
      mchid: this.mchId,
      description: req.description,
      out_trade_no: req.outTradeNo,
      time_expire: rfc3339(req.expiresAt),
      notify_url: this.options.notifyUrl,
      amount: { total: req.totalCents, currency: 'CNY' },
      payer: { openid: req.openid },
    });
    const prepayId = (json as { prepay_id?: unknown } | null)?.prepay_id;
    if (typeof prepayId !== 'string' || prepayId.length === 0) {
      throw this.failed('prepay', 'bad_answer', 'answer without prepay_id');
    }
    return prepayId;
  }

  payParams(prepayId: string): JsapiPayParams {
    return jsapiPayParams(this.appId, prepayId, this.options.privateKey);
  }

  async queryTransaction(outTradeNo: string): Promise<PayTransaction | null> {
    const answer = await this.call(
      'query',
      'GET',
      `/v3/pay/transactions/out-trade-no/${enc(outTradeNo)}?mchid=${enc(this.mchId)}`,
      undefined,
      true,
    );
    return answer.status === 404 ? null : this.read('query', () => parseTransaction(answer.json));
  }

  async close(outTradeNo: string): Promise<void> {
    await this.call('close', 'POST', `/v3/pay/transactions/out-trade-no/${enc(outTradeNo)}/close`, {
      mchid: this.mchId,
    });
  }

  async refund(req: RefundRequest): Promise<PayRefund> {
    const { json } = await this.call('refund', 'POST', '/v3/refund/domestic/refunds', {
      out_trade_no: req.outTradeNo,
      out_refund_no: req.outRefundNo,
      ...(req.reason ? { reason: req.reason } : {}),
      notify_url: this.options.notifyUrl,
      amount: { refund: req.refundCents, total: req.totalCents, currency: 'CNY' },
    });
    return this.read('refund', () => parseRefund(json));
  }

  async queryRefund(outRefundNo: string): Promise<PayRefund | null> {
    const answer = await this.call(
      'refund_query',
      'GET',
      `/v3/refund/domestic/refunds/${enc(outRefundNo)}`,
      undefined,
      true,
    );
    return answer.status === 404 ? null : this.read('refund_query', () => parseRefund(answer.json));
  }

  /** Closes the keep-alive sockets (application shutdown). */
  closeConnections(): void {
    this.upstream.close();
  }

  private read<T>(api: WechatPayApi, parse: () => T): T {
    try {
      return parse();
    } catch (err) {
      if (err instanceof BadAnswerError) throw this.failed(api, 'bad_answer', err.message);
      throw err;
    }
  }

  /** One signed exchange through the breaker; the answer is verified and, if 2xx, parsed. */
  private async call(
    api: WechatPayApi,
    method: 'GET' | 'POST',
    path: string,
    body: Record<string, unknown> | undefined,
    notFoundIsAnswer = false,
  ): Promise<Answer> {
    // A spent budget stops here, before the breaker: not sending is no outage.
    const timeout = callTimeout(this.options.timeoutMs);
    try {
      const answer = await inSpan(
        `wechat_pay ${api}`,
        { kind: SpanKind.CLIENT, attributes: { 'wechat_pay.api': api } },
        () =>
          this.breaker.run(
            () => this.exchange(api, method, path, body, notFoundIsAnswer, timeout),
            isUpstreamUnwell,
          ),
      );
      this.metrics?.count(api, answer.status === 404 ? 'not_found' : 'ok');
      return answer;
    } catch (err) {
      if (err instanceof CircuitOpenError) {
        throw this.failed(api, 'circuit_open', 'circuit open');
      }
      throw err;
    }
  }

  private async exchange(
    api: WechatPayApi,
    method: 'GET' | 'POST',
    path: string,
    body: Record<string, unknown> | undefined,
    notFoundIsAnswer: boolean,
    timeout: CallTimeout,
  ): Promise<Answer> {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const timestamp = unixSeconds();
    const nonceStr = nonce();
    const signature = sign(
      requestMessage(method, this.basePath + path, timestamp, nonceStr, payload),
      this.options.privateKey,
    );
    const headers: Record<string, string> = {
      Authorization: authorization({
        mchId: this.mchId,
        serial: this.options.merchantSerial,
        timestamp,
        nonce: nonceStr,
        signature,
      }),
      Accept: 'application/json',
      'User-Agent': 'wx-mp-backend',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.options.publicKeyId) headers['Wechatpay-Serial'] = this.options.publicKeyId;

    let response: { status: number; data: ArrayBuffer; headers: Record<string, unknown> };
    const started = performance.now();
    try {
      response = await this.http.request({
        method,
        url: path,
        data: body === undefined ? undefined : payload,
        headers,
        timeout: timeout.ms,
      });
    } catch (err) {
      this.metrics?.observe(api, (performance.now() - started) / 1000);
      const code = (err as { code?: unknown }).code;
      const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
      // Our deadline, not WeChat Pay's slowness: no breaker failure, no upstream error.
      if (timedOut && timeout.byBudget) throw new DeadlineExceededError();
      throw this.failed(api, timedOut ? 'timeout' : 'network', timedOut ? 'timeout' : String(code));
    }
    this.metrics?.observe(api, (performance.now() - started) / 1000);
    if (response.status >= 500) throw this.failed(api, 'http_5xx', `http ${response.status}`);

    const raw = Buffer.from(response.data ?? new ArrayBuffer(0));
    const outcome = this.options.verifier.verify(signatureHeaders(response.headers), raw);
    if (outcome !== 'ok') throw this.failed(api, 'bad_signature', `answer signature: ${outcome}`);

    let json: unknown = null;
    if (raw.length > 0) {
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        throw this.failed(api, 'bad_answer', `non-JSON answer (http ${response.status})`);
      }
    }
    if (response.status >= 200 && response.status < 300) return { status: response.status, json };
    if (response.status === 404 && notFoundIsAnswer) return { status: 404, json };
    const code = (json as { code?: unknown } | null)?.code;
    const payCode = typeof code === 'string' ? code : undefined;
    this.logger.warn(`${api} refused: http ${response.status} ${payCode ?? 'without code'}`);
    this.metrics?.count(api, 'refused');
    throw new WechatPayError('refused', payCode);
  }

  private failed(api: WechatPayApi, outcome: WechatPayOutcome, reason: string): WechatPayError {
    this.logger.warn(`${api} failed: ${reason}`);
    this.metrics?.count(api, outcome);
    return new WechatPayError(outcome);
  }
}

/** `time_expire` in RFC 3339 with the +08:00 offset WeChat Pay's examples use. */
export function rfc3339(at: Date): string {
  const beijing = new Date(at.getTime() + 8 * 3600_000);
  return `${beijing.toISOString().slice(0, 19)}+08:00`;
}
