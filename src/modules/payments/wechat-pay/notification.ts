import type { KeyObject } from 'node:crypto';
import { BadAnswerError, parseRefund, parseTransaction } from './answers.js';
import { ResourceDecryptError, decryptResource, type EncryptedResource } from './signing.js';
import type { SignatureHeaders, VerifyOutcome, WechatPayVerifier } from './verifier.js';
import type { PayRefund, PayTransaction } from './wechat-pay-client.js';

/** A notification that verified and decrypted, read into our types. */
export type PayNotification =
  | { id: string; kind: 'transaction'; eventType: string; transaction: PayTransaction }
  | { id: string; kind: 'refund'; eventType: string; refund: PayRefund };

/**
 * Why a notification is refused. WeChat Pay retries anything but a 2xx; 401
 * tells it (and whoever forged it) the signature was not accepted, 400 that
 * the signed content was unusable.
 */
export type NotificationRefusal =
  | { status: 401; reason: Exclude<VerifyOutcome, 'ok'> }
  | { status: 400; reason: 'not_json' | 'bad_resource' | 'decrypt_failed' | 'unknown_event' };

export type NotificationResult =
  { ok: true; notification: PayNotification } | ({ ok: false } & NotificationRefusal);

const EVENTS = new Map<string, 'transaction' | 'refund'>([
  ['TRANSACTION.SUCCESS', 'transaction'],
  ['REFUND.SUCCESS', 'refund'],
  ['REFUND.ABNORMAL', 'refund'],
  ['REFUND.CLOSED', 'refund'],
]);

/**
 * Reads a WeChat Pay notification: the signature over the raw body bytes
 * first (nothing is parsed before it verifies), then the AEAD_AES_256_GCM
 * resource with the APIv3 key.
 */
export class NotificationReader {
  constructor(
    private readonly verifier: WechatPayVerifier,
    private readonly apiV3Key: KeyObject,
  ) {}

  read(headers: SignatureHeaders, raw: Buffer): NotificationResult {
    const outcome = this.verifier.verify(headers, raw);
    if (outcome !== 'ok') return { ok: false, status: 401, reason: outcome };

    let envelope: { id?: unknown; event_type?: unknown; resource?: unknown };
    try {
      envelope = JSON.parse(raw.toString('utf8')) as typeof envelope;
    } catch {
      return { ok: false, status: 400, reason: 'not_json' };
    }
    const kind = typeof envelope?.event_type === 'string' && EVENTS.get(envelope.event_type);
    if (!kind) return { ok: false, status: 400, reason: 'unknown_event' };
    const resource = envelope.resource as Partial<EncryptedResource> | undefined;
    if (
      typeof resource?.ciphertext !== 'string' ||
      typeof resource.nonce !== 'string' ||
      typeof resource.algorithm !== 'string'
    ) {
      return { ok: false, status: 400, reason: 'bad_resource' };
    }
    let plaintext: unknown;
    try {
      plaintext = JSON.parse(decryptResource(resource as EncryptedResource, this.apiV3Key));
    } catch (err) {
      if (err instanceof ResourceDecryptError)
        return { ok: false, status: 400, reason: 'decrypt_failed' };
      return { ok: false, status: 400, reason: 'bad_resource' };
    }
    const id = typeof envelope.id === 'string' ? envelope.id : '';
    const eventType = envelope.event_type as string;
    try {
      return kind === 'transaction'
        ? {
            ok: true,
            notification: { id, kind, eventType, transaction: parseTransaction(plaintext) },
          }
        : { ok: true, notification: { id, kind, eventType, refund: parseRefund(plaintext) } };
    } catch (err) {
      if (err instanceof BadAnswerError) return { ok: false, status: 400, reason: 'bad_resource' };
      throw err;
    }
  }
}
