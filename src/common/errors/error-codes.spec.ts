import { BadGatewayException } from '@nestjs/common';
import { toErrorResponse } from '../http/index.js';
import { ERRORS, rowForStatus } from './error-codes.js';

describe('error code table', () => {
  it('labels a 502 raised outside the WeChat clients as a generic upstream failure, not WeChat', () => {
    expect(rowForStatus(502)).toBe(ERRORS.UPSTREAM);
    const answer = toErrorResponse(new BadGatewayException());
    expect(answer).toMatchObject({ status: 502, code: 50220, message: 'upstream failed' });
  });

  it('keeps the contract codes of the WeChat and WeChat Pay upstreams', () => {
    expect(ERRORS.WECHAT_UPSTREAM).toMatchObject({ status: 502, code: 50200 });
    expect(ERRORS.WECHAT_PAY_UPSTREAM).toMatchObject({ status: 502, code: 50210 });
  });
});
