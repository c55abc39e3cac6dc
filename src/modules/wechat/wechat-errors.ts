import { AppError } from '../../common/errors/index.js';

/** WeChat errcodes that mean "the server access_token is no longer valid". */
export const ACCESS_TOKEN_INVALID = new Set([40001, 42001]);

/**
 * Maps a WeChat errcode to our error table (API.md). Codes not named here are
 * an upstream failure: the client gets 502 and the errcode, never the errmsg
 * (it may echo our request).
 */
export function wechatError(errcode: number): AppError {
  switch (errcode) {
    case 40029:
      return new AppError('WECHAT_CODE_REJECTED', 'WeChat login code is invalid', { errcode });
    case 40163:
      return new AppError('WECHAT_CODE_REJECTED', 'WeChat login code was already used', {
        errcode,
      });
    case 40226:
      return new AppError('WECHAT_USER_RISKY', undefined, { errcode });
    case 45011:
      return new AppError('WECHAT_UPSTREAM', 'WeChat rate limit reached', { errcode });
    case -1:
      return new AppError('WECHAT_UPSTREAM', 'WeChat system busy', { errcode });
    default:
      return new AppError('WECHAT_UPSTREAM', undefined, { errcode });
  }
}

/** Failures that say WeChat is unwell (they trip the circuit breaker). */
export function isUpstreamFailure(err: unknown): boolean {
  return err instanceof AppError && err.reason === 'WECHAT_UPSTREAM';
}
