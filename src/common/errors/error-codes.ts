/**
 * The one table of business error codes (docs/http-api.md). Every error response is
 * built from a row here; nothing else chooses an HTTP status or a code.
 */
export const ERRORS = {
  VALIDATION_FAILED: { status: 400, code: 40000, message: 'validation failed' },
  UNAUTHORIZED: { status: 401, code: 40100, message: 'missing or invalid credentials' },
  TOKEN_EXPIRED: { status: 401, code: 40101, message: 'access token expired' },
  SESSION_REVOKED: { status: 401, code: 40102, message: 'session revoked' },
  FORBIDDEN: { status: 403, code: 40300, message: 'not allowed' },
  WECHAT_USER_RISKY: { status: 403, code: 40301, message: 'user flagged as high-risk by WeChat' },
  NOT_FOUND: { status: 404, code: 40400, message: 'not found' },
  METHOD_NOT_ALLOWED: { status: 405, code: 40500, message: 'method not allowed' },
  CONFLICT: { status: 409, code: 40900, message: 'conflict' },
  FLASH_SALE_SOLD_OUT: { status: 409, code: 40910, message: 'flash sale sold out' },
  FLASH_SALE_LIMIT_REACHED: {
    status: 409,
    code: 40911,
    message: 'flash sale per-user limit reached',
  },
  FLASH_SALE_NOT_LIVE: { status: 409, code: 40912, message: 'flash sale not live' },
  ADDRESS_REQUIRED: {
    status: 409,
    code: 40920,
    message: 'the order needs a delivery address first',
  },
  AFTER_SALES_NOT_ALLOWED: {
    status: 409,
    code: 40921,
    message: 'after-sales request not allowed',
  },
  PAYLOAD_TOO_LARGE: { status: 413, code: 41300, message: 'body too large' },
  // A malformed request like any other 400, with the status HTTP gives it.
  UNSUPPORTED_MEDIA_TYPE: { status: 415, code: 40000, message: 'request body is not JSON' },
  URI_TOO_LONG: { status: 414, code: 41400, message: 'URL or path parameter too long' },
  HEADERS_TOO_LARGE: { status: 431, code: 43100, message: 'request headers too large' },
  WECHAT_CODE_REJECTED: { status: 422, code: 42200, message: 'WeChat rejected the login code' },
  CONTENT_RISKY: {
    status: 422,
    code: 42201,
    message: 'content rejected by WeChat content security',
  },
  THROTTLED: { status: 429, code: 42900, message: 'too many requests' },
  INTERNAL: { status: 500, code: 50000, message: 'unexpected error' },
  WECHAT_UPSTREAM: { status: 502, code: 50200, message: 'WeChat upstream failed' },
  WECHAT_PAY_UPSTREAM: { status: 502, code: 50210, message: 'WeChat Pay upstream failed' },
  // A 502 that names no upstream we call (a framework BadGatewayException):
  // labelling it WeChat's would send an operator after the wrong dependency.
  UPSTREAM: { status: 502, code: 50220, message: 'upstream failed' },
  UNAVAILABLE: { status: 503, code: 50300, message: 'service unavailable' },
  FEATURE_OFF: { status: 503, code: 50301, message: 'feature switched off by an operator' },
} as const;

export type ErrorReason = keyof typeof ERRORS;
export type ErrorRow = (typeof ERRORS)[ErrorReason];

/** The row for an HTTP status raised outside our code (framework, Fastify). */
export function rowForStatus(status: number): ErrorRow {
  switch (status) {
    case 400:
      return ERRORS.VALIDATION_FAILED;
    case 401:
      return ERRORS.UNAUTHORIZED;
    case 403:
      return ERRORS.FORBIDDEN;
    case 404:
      return ERRORS.NOT_FOUND;
    case 405:
      return ERRORS.METHOD_NOT_ALLOWED;
    case 409:
      return ERRORS.CONFLICT;
    case 413:
      return ERRORS.PAYLOAD_TOO_LARGE;
    case 415:
      return ERRORS.UNSUPPORTED_MEDIA_TYPE;
    case 414:
      return ERRORS.URI_TOO_LONG;
    case 431:
      return ERRORS.HEADERS_TOO_LARGE;
    case 429:
      return ERRORS.THROTTLED;
    case 502:
      return ERRORS.UPSTREAM;
    case 503:
      return ERRORS.UNAVAILABLE;
    default:
      return status >= 400 && status < 500 ? ERRORS.VALIDATION_FAILED : ERRORS.INTERNAL;
  }
}
