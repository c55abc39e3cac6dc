import { Controller, Get, Query } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import type { Repository } from 'typeorm';
import { Roles } from '../../common/auth/index.js';
import { ApiAnswer, DEFAULT_PAGE_SIZE, PageQuery, idCursor } from '../../common/http/index.js';
import { WechatPushMessage } from './wechat-push-message.entity.js';
import {
  pushMessagePage,
  toPushMessageView,
  type PushMessagePage,
} from './wechat-push-message.view.js';

export class ListPushMessagesQuery extends PageQuery {
  @ApiPropertyOptional({
    description: 'only this Event (or MsgType)',
    example: 'trade_manage_remind_shipping',
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_]{1,64}$/, { message: 'event must be an Event name ([A-Za-z0-9_])' })
  event?: string;
}

const cursor = idCursor('push');

/** What WeChat pushed, for staff: the reminders to act on, settlements, refusals of users. */
@ApiTags('wechat admin')
@Controller('admin/wechat/push-messages')
export class WechatPushAdminController {
  constructor(
    @InjectRepository(WechatPushMessage) private readonly messages: Repository<WechatPushMessage>,
  ) {}

  /** Newest first, optionally one event (`trade_manage_remind_shipping`…). */
  @ApiOperation({ summary: 'List the messages WeChat pushed' })
  @Get()
  @Roles('support', 'operator', 'finance', 'admin')
  @ApiAnswer(pushMessagePage)
  async list(@Query() query: ListPushMessagesQuery): Promise<PushMessagePage> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const before = cursor.decode(query.cursor);
    const q = this.messages
      .createQueryBuilder('m')
      .orderBy('m.id', 'DESC')
      .take(limit + 1);
    if (query.event) q.andWhere('m.name = :event', { event: query.event });
    if (before !== undefined) q.andWhere('m.id < :before', { before });
    const rows = await q.getMany();
    const page = rows.slice(0, limit);
    return {
      items: page.map(toPushMessageView),
      nextCursor: rows.length > limit ? cursor.encode(page[page.length - 1].id) : null,
    };
  }
}
