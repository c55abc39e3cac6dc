import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppError } from '../../common/errors/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { OutboxWriter } from '../../infra/queue/index.js';
import { Transactions, isDuplicateKey } from '../../infra/transactions/index.js';
import { PushRefused, decryptPush, pushSignature, signatureMatches } from './push-crypto.js';
import { PushMalformed } from './push-malformed.js';
import { parsePushBody, toPushMessage, type PushMessage } from './push-message.js';
import {
  WECHAT_PUSH_AGGREGATE,
  pushEventType,
  type WechatPushPayload,
} from './wechat-push-events.js';
import { WechatPushMessage } from './wechat-push-message.entity.js';
import { WechatPushMetrics, type PushRefusal } from './wechat-push-metrics.js';

/** WeChat's push bodies are a few KB; anything near this is not WeChat. */
export const PUSH_BODY_LIMIT = 64 * 1024;
/**
 * The stored message (its JSON) fits a TEXT column (64 KiB) beside the
 * outbox event's few fields: XML text re-encoded as JSON can grow (every
 * newline becomes two characters), so the size is checked after parsing too.
 */
const MAX_STORED_BYTES = 60_000;
/** A push signed this long before or after our clock is refused (a replay window). */
const MAX_SKEW_S = 300;
const TIMESTAMP = /^\d{1,12}$/;
const NONCE = /^[A-Za-z0-9_-]{1,64}$/;

/** The query WeChat signs its pushes with. */
export interface PushQuery {
  signature?: unknown;
  timestamp?: unknown;
  nonce?: unknown;
  echostr?: unknown;
  encrypt_type?: unknown;
  msg_signature?: unknown;
}

const REMINDERS = new Set(['trade_manage_remind_shipping', 'trade_manage_remind_access_api']);

/**
 * The message-push server's core: checks what WeChat signed (and opens what
 * it encrypted), then stores each message once with its outbox event. The
 * effects (an order settled, credits…) run later in the consumers, so the
 * answer WeChat waits for costs one short transaction.
 */
@Injectable()
export class WechatPushReceiver {
  private readonly logger = new Logger('WechatPush');
  private readonly push: AppConfig['wechatPush'];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly transactions: Transactions,
    private readonly outbox: OutboxWriter,
    private readonly metrics: WechatPushMetrics,
  ) {
    this.push = config.wechatPush;
  }

  /** GET /wechat/push: WeChat's URL check; the echostr when the signature holds. */
  verifyUrl(query: PushQuery): string {
    const push = this.enabled();
    const { timestamp, nonce } = this.signedParts(query);
    if (!signatureMatches(pushSignature([push.token, timestamp, nonce]), query.signature)) {
      this.refuse('signature', 'bad signature');
    }
    const echostr = query.echostr;
    if (typeof echostr !== 'string' || echostr.length === 0 || echostr.length > 128) {
      throw new AppError('VALIDATION_FAILED', 'echostr is missing or too long');
    }
    return echostr;
  }

  /** POST /wechat/push: stored (true) or a repeat of a stored message (false). */
  async receive(query: PushQuery, raw: Buffer): Promise<boolean> {
    const push = this.enabled();
    if (raw.length > PUSH_BODY_LIMIT) {
      this.metrics.refused('too_large');
      throw new AppError('PAYLOAD_TOO_LARGE', `a push body is at most ${PUSH_BODY_LIMIT} bytes`);
    }
    const { timestamp, nonce } = this.signedParts(query);
    const body = raw.toString('utf8');
    let text: string;
    if (query.encrypt_type === 'aes') {
      if (!push.aesKey) this.refuse('decrypt', 'safe mode without WECHAT_PUSH_AES_KEY');
      const encrypt = this.malformedAs400(() => parsePushBody(body).fields.Encrypt);
      if (typeof encrypt !== 'string') {
        this.metrics.refused('malformed');
        throw new AppError('VALIDATION_FAILED', 'a safe-mode push carries Encrypt');
      }
      const expected = pushSignature([push.token, timestamp, nonce, encrypt]);
      if (!signatureMatches(expected, query.msg_signature)) {
        this.refuse('signature', 'bad msg_signature');
      }
      try {
        text = decryptPush(encrypt, push.aesKey, push.appId);
      } catch (err) {
        if (err instanceof PushRefused) this.refuse('decrypt', err.message);
        throw err;
      }
    } else {
      // Plaintext signs only the query: with a key configured, take safe mode only.
      if (push.aesKey) this.refuse('signature', 'plaintext push while safe mode is configured');
      if (!signatureMatches(pushSignature([push.token, timestamp, nonce]), query.signature)) {
        this.refuse('signature', 'bad signature');
      }
      text = body;
    }
    const message = this.malformedAs400(() => toPushMessage(parsePushBody(text).fields));
    return this.store(message);
  }

  private async store(message: PushMessage): Promise<boolean> {
    const payload = JSON.stringify(message.fields);
    if (Buffer.byteLength(payload, 'utf8') > MAX_STORED_BYTES) {
      this.metrics.refused('too_large');
      throw new AppError('PAYLOAD_TOO_LARGE', 'the message is too large to store');
    }
    try {
      await this.transactions.run(async (m) => {
        const inserted = await m.insert(WechatPushMessage, {
          dedupKey: message.dedupKey,
          msgType: message.msgType,
          name: message.name,
          fromUser: message.fromUser,
          createTime: message.createTime === null ? null : String(message.createTime),
          payload,
          receivedAt: new Date(),
        });
        const messageId = Number((inserted.identifiers[0] as { id: number }).id);
        await this.outbox.append(m, {
          type: pushEventType(message.name),
          aggregateType: WECHAT_PUSH_AGGREGATE,
          // One sender's messages reach an ordered consumer in the order they came
          // (a user's acceptance, then their refusal).
          aggregateId: message.fromUser ?? messageId,
          payload: {
            messageId,
            fromUser: message.fromUser,
            fields: message.fields,
          } satisfies WechatPushPayload,
        });
      });
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
    this.metrics.stored(message.name);
    if (REMINDERS.has(message.name)) {
      // An operator acts on these (docs/wechat.md, the reminders runbook): ship, or fix the upload.
      this.logger.warn(`WeChat reminder ${message.name}: see the runbook in docs/wechat.md`);
    }
    return true;
  }

  private enabled(): NonNullable<AppConfig['wechatPush']> {
    // Unset credentials: the route does not exist for the outside world.
    if (!this.push) throw new AppError('NOT_FOUND', 'not found');
    return this.push;
  }

  private signedParts(query: PushQuery): { timestamp: string; nonce: string } {
    const { timestamp, nonce } = query;
    if (typeof timestamp !== 'string' || !TIMESTAMP.test(timestamp)) {
      this.refuse('timestamp', 'timestamp missing or malformed');
    }
    if (typeof nonce !== 'string' || !NONCE.test(nonce)) this.refuse('signature', 'bad nonce');
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) >= MAX_SKEW_S) {
      this.refuse('timestamp', 'timestamp 5 min or more off');
    }
    return { timestamp, nonce };
  }

  private refuse(reason: PushRefusal, why: string): never {
    this.metrics.refused(reason);
    this.logger.warn(`push refused: ${why}`);
    throw new AppError('UNAUTHORIZED', 'push refused');
  }

  private malformedAs400<T>(parse: () => T): T {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof PushMalformed)) throw err;
      this.metrics.refused('malformed');
      throw new AppError('VALIDATION_FAILED', err.message);
    }
  }
}
