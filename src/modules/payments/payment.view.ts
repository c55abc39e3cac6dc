import { z } from 'zod';
import { apiView } from '../../common/http/index.js';

/**
 * Exactly what wx.requestPayment takes (docs/http-api.md), paySign over the
 * mini-program's appid.
 */
export const jsapiPayView = apiView(
  'JsapiPayParams',
  z.strictObject({
    timeStamp: z.string().meta({ example: '1767254400', description: 'seconds, as a string' }),
    nonceStr: z.string().meta({ example: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS' }),
    package: z.string().meta({ example: 'prepay_id=wx201410272009395522657a690389285100' }),
    signType: z.literal('RSA'),
    paySign: z.string().meta({ description: 'SHA256withRSA, base64' }),
  }),
);
