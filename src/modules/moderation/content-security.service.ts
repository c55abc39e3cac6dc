import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { AppError } from '../../common/errors/index.js';
import { idCursor } from '../../common/http/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { AuditLog } from '../../infra/audit/index.js';
import { ConsistencyService } from '../../infra/consistency/index.js';
import { Transactions } from '../../infra/transactions/index.js';
import { WechatClient, type ContentScene } from '../wechat/index.js';
import {
  ContentFlag,
  type ContentKind,
  type FlagReason,
  type FlagStatus,
} from './content-flag.entity.js';
import { toFlagView, type ContentFlagPage, type ContentFlagView } from './content-flag.view.js';

/** What to do with a text that may be stored: `flag` null when it is clean. */
export interface ContentDecision {
  flag: FlagReason | null;
  label: number | null;
}

export interface FlagTarget {
  kind: ContentKind;
  refId: number;
  userId: number;
  content: string;
}

// msgSecCheck scenes: a nickname is profile data, a remark is like a comment
// (an avatar is an image, checked by media_check_async, never as text).
const SCENE: Record<ContentKind, ContentScene> = { nickname: 1, order_remark: 2, avatar: 1 };
const cursor = idCursor('flag');

/**
 * WeChat content security (msg_sec_check v2) before user text is stored, and
 * the flags admins review. The decision is WeChat's `result.suggest`:
 * `risky` refuses (422/42201), `review` stores and flags; when WeChat cannot
 * answer, CONTENT_CHECK_FAIL_OPEN stores and flags (default) or refuses (502).
 */
@Injectable()
export class ContentSecurity {
  private readonly logger = new Logger('ContentSecurity');
  private readonly failOpen: boolean;

  constructor(
    private readonly wechat: WechatClient,
    @InjectRepository(ContentFlag) private readonly flags: Repository<ContentFlag>,
    private readonly consistency: ConsistencyService,
    private readonly transactions: Transactions,
    private readonly audit: AuditLog,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.failOpen = config.wechat.contentCheckFailOpen;
  }

  /** Asks WeChat about `content` written by the user `openid`; throws when it must not be stored. */
  async check(kind: ContentKind, openid: string, content: string): Promise<ContentDecision> {
    let verdict;
    try {
      verdict = await this.wechat.checkText({ openid, scene: SCENE[kind], content });
    } catch (err) {
      const reason =
        err instanceof AppError
          ? `${err.reason}${typeof err.data?.errcode === 'number' ? ` ${err.data.errcode}` : ''}`
          : 'error';
      this.logger.warn(
        `${kind} not checked (${reason}); ${this.failOpen ? 'storing and flagging' : 'refusing'}`,
      );
      if (!this.failOpen) throw new AppError('WECHAT_UPSTREAM', 'content check unavailable');
      return { flag: 'unchecked', label: null };
    }
    if (verdict.suggest === 'risky') {
      throw new AppError('CONTENT_RISKY', undefined, {
        field: kind === 'nickname' ? 'nickname' : 'remark',
      });
    }
    return { flag: verdict.suggest === 'review' ? 'review' : null, label: verdict.label };
  }

  /** Records the flag in the caller's transaction, so the text and its flag commit together. */
  async flag(manager: EntityManager, decision: ContentDecision, target: FlagTarget): Promise<void> {
    if (!decision.flag) return;
    await manager.insert(ContentFlag, {
      ...target,
      reason: decision.flag,
      label: decision.label,
      status: 'open',
      clearedBy: null,
    });
  }

  async list(
    status: FlagStatus,
    after: string | undefined,
    limit: number,
  ): Promise<ContentFlagPage> {
    const before = cursor.decode(after);
    const query = this.flags
      .createQueryBuilder('f')
      .where('f.status = :status', { status })
      .orderBy('f.id', 'DESC')
      .take(limit + 1);
    if (before !== undefined) query.andWhere('f.id < :before', { before });
    const rows = await query.getMany();
    const page = rows.slice(0, limit);
    return {
      items: page.map(toFlagView),
      nextCursor: rows.length > limit ? cursor.encode(page[page.length - 1].id) : null,
    };
  }

  /** Marks an open flag cleared by `adminId`; 404 unknown, 409 already cleared. */
  async clear(id: number, adminId: number): Promise<ContentFlagView> {
    await this.transactions.run(async (m) => {
      const result = await m.update(
        ContentFlag,
        { id, status: 'open' },
        { status: 'cleared', clearedBy: adminId },
      );
      if (result.affected === 0) {
        const exists = await m.existsBy(ContentFlag, { id });
        throw exists
          ? new AppError('CONFLICT', 'content flag already cleared')
          : new AppError('NOT_FOUND', 'content flag not found');
      }
      await this.audit.record(m, {
        actorId: adminId,
        action: 'content_flag.clear',
        target: `content_flag:${id}`,
        before: { status: 'open' },
        after: { status: 'cleared' },
      });
    });
    const flag = await this.consistency.primaryReads(() => this.flags.findOneByOrFail({ id }));
    return toFlagView(flag);
  }
}
