import type { KeyObject } from 'node:crypto';
import { responseMessage, unixSeconds, verify } from './signing.js';

/** Signatures whose timestamp is this far from our clock are refused (replays). */
export const MAX_CLOCK_SKEW_S = 300;

/** WeChat Pay's probes start their signature with this; they must fail verification. */
const PROBE_PREFIX = 'WECHATPAY/SIGNTEST/';

export type VerifyOutcome =
  'ok' | 'missing_headers' | 'stale' | 'probe' | 'unknown_serial' | 'bad_signature';

/** The four `Wechatpay-*` headers, as they arrived (any may be missing). */
export interface SignatureHeaders {
  timestamp?: string;
  nonce?: string;
  signature?: string;
  serial?: string;
}

const header = (headers: Record<string, unknown>, name: string): string | undefined => {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** Picks the signature headers out of Node/Fastify/axios lower-cased headers. */
export function signatureHeaders(headers: Record<string, unknown>): SignatureHeaders {
  return {
    timestamp: header(headers, 'wechatpay-timestamp'),
    nonce: header(headers, 'wechatpay-nonce'),
    signature: header(headers, 'wechatpay-signature'),
    serial: header(headers, 'wechatpay-serial'),
  };
}

/**
 * Verifies WeChat Pay's signatures on responses and notifications with the
 * keys we trust, by serial: the WeChat Pay public key (`PUB_KEY_ID_…`) and,
 * for merchants still on them, platform certificates.
 */
export class WechatPayVerifier {
  constructor(
    private readonly keys: ReadonlyMap<string, KeyObject>,
    private readonly now: () => number = Date.now,
  ) {}

  verify(headers: SignatureHeaders, body: Buffer): VerifyOutcome {
    const { timestamp, nonce, signature, serial } = headers;
    if (!timestamp || !nonce || !signature || !serial) return 'missing_headers';
    if (signature.startsWith(PROBE_PREFIX)) return 'probe';
    if (!/^\d{1,12}$/.test(timestamp)) return 'stale';
    if (Math.abs(unixSeconds(this.now()) - Number(timestamp)) >= MAX_CLOCK_SKEW_S) return 'stale';
    const key = this.keys.get(serial);
    if (!key) return 'unknown_serial';
    return verify(responseMessage(timestamp, nonce, body), signature, key) ? 'ok' : 'bad_signature';
  }
}
