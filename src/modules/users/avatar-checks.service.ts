import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { IsNull, LessThan, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { TwoTierCache } from '../../infra/cache/index.js';
import { ConsumerRegistry, OutboxWriter, type DeliveredEvent } from '../../infra/queue/index.js';
import { Transactions } from '../../infra/transactions/index.js';
import { ContentSecurity, type FlagReason } from '../moderation/index.js';
import { WechatClient } from '../wechat/index.js';
import { WECHAT_PUSH_EVENTS, type WechatPushPayload } from '../wechat-push/index.js';
import { MediaCheck } from './media-check.entity.js';
import { User } from './user.entity.js';
import { userViewKey } from './user.view.js';

/** Outbox event: an avatar was stored and its check is to be requested. */
export const AVATAR_CHECK_REQUESTED = 'user.avatar-check';
export interface AvatarCheckPayload {
  checkId: number;
  userId: number;
}

const VERDICTS = new Set(['pass', 'review', 'risky']);
// The flag keeps at most this much of the URL (content_flags.content).
const FLAG_CONTENT_MAX = 200;
// Checks the sweeper handles per run.
const SWEEP_BATCH = 50;

/** WeChat's verdict of a pushed `wxa_media_check` (v2: result.suggest/label, v1: isrisky). */
function verdictOf(fields: Record<string, unknown>): { suggest: string; label: number | null } {
  const result = fields.result as Record<string, unknown> | undefined;
  const suggest = typeof result?.suggest === 'string' ? result.suggest : undefined;
  const label = Number(result?.label);
  if (suggest && VERDICTS.has(suggest)) {
    return { suggest, label: Number.isInteger(label) ? label : null };
  }
  return { suggest: 'unknown', label: null };
}

/**
 * Asynchronous checks of the avatars the API stores (media_check_async v2,
 * media_type 2): the check row and its outbox event commit with the avatar;
 * a consumer asks WeChat (an errcode such as 45009, the quota, or -1 rolls
 * back and the job retries later), and WeChat's pushed `wxa_media_check`
 * verdict is matched by trace_id: `risky` removes the avatar if it is still
 * the one checked and flags it for staff, `review` flags it, `pass` closes
 * the check. The verdict moves the check out of `pending` with one guarded
 * UPDATE, so a repeated push applies once. A verdict that never comes: the
 * sweeper asks again after MEDIA_CHECK_RETRY_AFTER_S, and after
 * MEDIA_CHECK_MAX_ATTEMPTS requests flags the avatar `unchecked`.
 */
@Injectable()
export class AvatarChecks implements OnModuleInit {
  private readonly logger = new Logger(AvatarChecks.name);
  private readonly retryAfterMs: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly registry: ConsumerRegistry,
    private readonly outbox: OutboxWriter,
    private readonly transactions: Transactions,
    private readonly security: ContentSecurity,
    private readonly cache: TwoTierCache,
    @Inject(WechatClient) private readonly wechat: WechatClient,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.retryAfterMs = config.wechat.mediaCheckRetryAfterMs;
    this.maxAttempts = config.wechat.mediaCheckMaxAttempts;
  }

  onModuleInit(): void {
    this.registry.register<AvatarCheckPayload>({
      name: 'users.avatar-check',
      events: [AVATAR_CHECK_REQUESTED],
      ordered: false,
      concurrency: 2,
      attempts: 8,
      backoffMs: 5000,
      handle: (event, m) => this.request(m, event.payload.checkId),
    });
    this.registry.register<WechatPushPayload>({
      name: 'users.avatar-verdict',
      events: [WECHAT_PUSH_EVENTS.mediaCheck],
      ordered: false,
      concurrency: 4,
      handle: (event, m) => this.applyVerdict(event, m),
    });
    this.registry.registerTask({
      name: 'users.avatar-check-sweep',
      everyMs: Math.min(this.retryAfterMs, 60_000),
      run: () => this.sweep(),
    });
  }

  /** In the transaction that stored `url` as user `userId`'s avatar. */
  async checkWithin(m: EntityManager, userId: number, url: string): Promise<void> {
    const inserted = await m.insert(MediaCheck, {
      userId,
      kind: 'avatar',
      url,
      traceId: null,
      status: 'pending',
      attempts: 0,
      requestedAt: null,
      createdAt: new Date(),
    });
    const checkId = Number(inserted.identifiers[0].id);
    const payload: AvatarCheckPayload = { checkId, userId };
    await this.outbox.append(m, {
      type: AVATAR_CHECK_REQUESTED,
      aggregateType: 'user',
      aggregateId: userId,
      payload,
    });
  }

  /** The first request of a check; a redelivery after it was made asks nothing more. */
  private async request(m: EntityManager, checkId: number): Promise<void> {
    const check = await m.findOneBy(MediaCheck, { id: Number(checkId) });
    if (check?.status !== 'pending' || check.traceId !== null) return;
    const user = await m.findOneBy(User, { id: check.userId });
    if (!user) return;
    const traceId = await this.wechat.requestImageCheck(check.url, user.openid);
    await m
      .createQueryBuilder()
      .update(MediaCheck)
      .set({ traceId, attempts: () => 'attempts + 1', requestedAt: new Date() })
      .where('id = :id AND trace_id IS NULL', { id: check.id })
      .execute();
  }

  private async applyVerdict(
    event: DeliveredEvent<WechatPushPayload>,
    m: EntityManager,
  ): Promise<void> {
    const fields = event.payload.fields;
    const traceId = typeof fields.trace_id === 'string' ? fields.trace_id : '';
    const { suggest, label } = verdictOf(fields);
    if (!traceId || suggest === 'unknown') return;
    const check = await m.findOneBy(MediaCheck, { traceId });
    if (!check) {
      this.logger.warn(
        `media check verdict for an unknown trace_id (push message ${event.payload.messageId})`,
      );
      return;
    }
    const closed = await m
      .createQueryBuilder()
      .update(MediaCheck)
      .set({ status: suggest as MediaCheck['status'] })
      .where('id = :id AND status = :pending', { id: check.id, pending: 'pending' })
      .execute();
    if (closed.affected !== 1 || suggest === 'pass') return;
    if (suggest === 'risky') {
      // Only the avatar that was checked: a newer one has its own check.
      const removed = await m
        .createQueryBuilder()
        .update(User)
        .set({ avatarUrl: null })
        .where('id = :id AND avatar_url = :url', { id: check.userId, url: check.url })
        .execute();
      if (removed.affected === 1) await this.cache.delete(userViewKey(check.userId));
    }
    await this.flag(m, check, suggest as FlagReason, label);
  }

  /** Pending checks whose verdict is overdue: asked again, or flagged after the last attempt. */
  private async sweep(): Promise<void> {
    const cutoff = new Date(Date.now() - this.retryAfterMs);
    // Find options, not raw SQL: the embedded engine binds a Date only this way.
    const due = await this.transactions.run((m) =>
      m.find(MediaCheck, {
        where: [
          { status: 'pending', requestedAt: LessThan(cutoff) },
          { status: 'pending', requestedAt: IsNull(), createdAt: LessThan(cutoff) },
        ],
        order: { id: 'ASC' },
        take: SWEEP_BATCH,
      }),
    );
    for (const check of due) {
      await this.transactions.run((m) => this.retry(m, check));
    }
  }

  private async retry(m: EntityManager, check: MediaCheck): Promise<void> {
    // Guarded on the attempts read: a sweep on another replica did it first otherwise.
    const guard = 'id = :id AND status = :pending AND attempts = :attempts';
    const params = { id: check.id, pending: 'pending', attempts: check.attempts };
    if (check.attempts >= this.maxAttempts) {
      const given = await m
        .createQueryBuilder()
        .update(MediaCheck)
        .set({ status: 'unchecked' })
        .where(guard, params)
        .execute();
      if (given.affected === 1) await this.flag(m, check, 'unchecked', null);
      return;
    }
    const user = await m.findOneBy(User, { id: check.userId });
    let traceId: string | null = check.traceId;
    try {
      if (user) traceId = await this.wechat.requestImageCheck(check.url, user.openid);
    } catch (err) {
      // Counted as an attempt all the same: a check WeChat keeps refusing is flagged in the end.
      this.logger.warn(`media check ${check.id} not requested again: ${(err as Error).message}`);
    }
    await m
      .createQueryBuilder()
      .update(MediaCheck)
      .set({ traceId, attempts: () => 'attempts + 1', requestedAt: new Date() })
      .where(guard, params)
      .execute();
  }

  private flag(
    m: EntityManager,
    check: MediaCheck,
    reason: FlagReason,
    label: number | null,
  ): Promise<void> {
    const chars = Array.from(check.url);
    const content =
      chars.length <= FLAG_CONTENT_MAX
        ? check.url
        : `${chars.slice(0, FLAG_CONTENT_MAX - 1).join('')}…`;
    return this.security.flag(
      m,
      { flag: reason, label },
      { kind: 'avatar', refId: check.userId, userId: check.userId, content },
    );
  }
}
