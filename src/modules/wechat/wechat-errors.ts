import { AppError, validationError } from '../../common/errors/index.js';
import type { WechatApi } from './wechat-metrics.js';

/** WeChat errcodes that mean "the server access_token is no longer valid". */
export const ACCESS_TOKEN_INVALID = new Set([40001, 40014, 42001]);

// 45011 is a per-user (or per-minute) quota: "retry next minute".
const QUOTA_RETRY_AFTER_S = '60';

/**
 * WeChat said the upstream itself is unwell (transport error, timeout, 5xx,
 * an answer that is not JSON, errcode -1): the only errors that count
 * toward the API's circuit breaker.
 */
export class WechatUnavailable extends AppError {
  override name = 'WechatUnavailable';

  constructor(message?: string, data?: Record<string, unknown>) {
    super('WECHAT_UPSTREAM', message, data);
  }
}

/**
 * subscribe/send refused the message itself: 47003 (a value does not fit its
 * keyword), 40037 (template id), 40003 (openid), 41030 (page). Carries
 * WeChat's errmsg, which names the field (no secret is in it), for the dead letter.
 */
export class SubscribeRejected extends AppError {
  override name = 'SubscribeRejected';

  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super('WECHAT_UPSTREAM', `subscribe/send refused: errcode ${errcode} ${errmsg}`, { errcode });
  }
}

/** subscribe/send errcodes that refuse the message itself (see SubscribeRejected). */
export const SUBSCRIBE_REJECTED = new Set([47003, 40037, 40003, 41030]);
/** subscribe/send: the user has no credit at WeChat (refused, or already spent). */
export const SUBSCRIBE_NO_CREDIT = 43101;

/**
 * upload_shipping_info refused the upload itself (10060001 no such order,
 * 10060002 bad parameters, 268485216 upload_time invalid, …). Carries
 * WeChat's errmsg for the dead letter.
 */
export class ShippingRejected extends AppError {
  override name = 'ShippingRejected';

  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super('WECHAT_UPSTREAM', `upload_shipping_info refused: errcode ${errcode} ${errmsg}`, {
      errcode,
    });
  }
}

/** upload_shipping_info: the shipping information was uploaded before (counts as done). */
export const SHIPPING_ALREADY_UPLOADED = 10060003;
/** get_order / upload_shipping_info: WeChat knows no such payment (支付单不存在). */
export const SHIPPING_NO_SUCH_ORDER = 10060001;
/**
 * upload_shipping_info errcodes worth another try: 10060019, WeChat's system
 * error. Every other errcode refuses the upload itself.
 */
export const SHIPPING_RETRYABLE = new Set([10060019]);

/** Which code a rejected code belongs to: the one of wx.login or of the phone button. */
function codeRejected(api: WechatApi, errcode: number): AppError {
  if (api === 'getuserphonenumber') {
    return new AppError('WECHAT_CODE_REJECTED', 'WeChat phone code is invalid or expired', {
      errcode,
    });
  }
  return new AppError(
    'WECHAT_CODE_REJECTED',
    errcode === 40163 ? 'WeChat login code was already used' : 'WeChat login code is invalid',
    { errcode },
  );
}

/**
 * Maps a WeChat errcode to our error table (docs/http-api.md). Only -1 says WeChat is
 * unwell; every other errcode is an answer about this request, so it never
 * opens a breaker. Codes not named here get 502 with the errcode, never the
 * errmsg (it may echo our request).
 */
export function wechatError(api: WechatApi, errcode: number): AppError {
  switch (errcode) {
    case 40029:
    case 40163:
      return codeRejected(api, errcode);
    case 40226:
      return new AppError('WECHAT_USER_RISKY', undefined, { errcode });
    case 45011:
      return new AppError(
        'THROTTLED',
        'WeChat rate limit reached, retry in a minute',
        { errcode },
        {
          'Retry-After': QUOTA_RETRY_AFTER_S,
        },
      );
    case -1:
      return new WechatUnavailable('WeChat system busy', { errcode });
    // getwxacodeunlimit: what the caller asked for does not exist or does not fit.
    case 41030:
      return validationError([
        { field: 'page', message: 'page is not a page of the published mini-program' },
      ]);
    case 40169:
      return validationError([{ field: 'scene', message: 'WeChat refused the scene' }]);
    default:
      return new AppError('WECHAT_UPSTREAM', undefined, { errcode });
  }
}

/** Failures that say WeChat is unwell (they trip the circuit breaker). */
export function isUpstreamFailure(err: unknown): boolean {
  return err instanceof WechatUnavailable;
}

const RID = /\brid:\s*([0-9a-f]+(?:-[0-9a-f]+)+)/i;

/** WeChat's request id in an errmsg ("… rid: 66d02a4c-6788a203-083e9b71"), for the log line. */
export function ridOf(errmsg: unknown): string | undefined {
  return typeof errmsg === 'string' ? RID.exec(errmsg)?.[1] : undefined;
}
