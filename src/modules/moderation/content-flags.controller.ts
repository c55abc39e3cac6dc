import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { CurrentUser, Roles, type AuthUser } from '../../common/auth/index.js';
import { ApiAnswer, DEFAULT_PAGE_SIZE, PageQuery, parseId } from '../../common/http/index.js';
import type { FlagStatus } from './content-flag.entity.js';
import {
  contentFlagPage,
  contentFlagView,
  type ContentFlagPage,
  type ContentFlagView,
} from './content-flag.view.js';
import { ContentSecurity } from './content-security.service.js';

export class ListFlagsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['open', 'cleared'], default: 'open' })
  @IsOptional()
  @IsIn(['open', 'cleared'])
  status?: FlagStatus;
}

/** Text WeChat asked a human to look at (or could not check), for admins. */
@ApiTags('moderation admin')
@Controller('admin/content-flags')
export class ContentFlagsController {
  constructor(private readonly security: ContentSecurity) {}

  /** Newest first; `status=open` (default) or `cleared`. */
  @ApiOperation({ summary: 'List flagged texts' })
  @Get()
  @Roles('admin')
  @ApiAnswer(contentFlagPage)
  list(@Query() query: ListFlagsQuery): Promise<ContentFlagPage> {
    return this.security.list(
      query.status ?? 'open',
      query.cursor,
      query.limit ?? DEFAULT_PAGE_SIZE,
    );
  }

  /** The admin looked and keeps the text: the flag leaves the open list. */
  @ApiOperation({ summary: 'Clear a flagged text' })
  @Post(':id/clear')
  @Roles('admin')
  @HttpCode(200)
  @ApiAnswer(contentFlagView, { description: 'the flag, now cleared', errors: ['CONFLICT'] })
  clear(@Param('id') id: string, @CurrentUser() admin: AuthUser): Promise<ContentFlagView> {
    return this.security.clear(parseId(id, 'content flag'), admin.userId);
  }
}
