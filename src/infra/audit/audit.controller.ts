import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../common/auth/index.js';
import { ApiAnswer, DEFAULT_PAGE_SIZE } from '../../common/http/index.js';
import { AuditQuery } from './audit-query.dto.js';
import { AuditLog } from './audit.log.js';
import { auditPage, toAuditView, type AuditPage } from './audit.view.js';

@ApiTags('audit admin')
@Controller('admin/audit')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  /** Every staff write, newest first (docs/audit.md). */
  @ApiOperation({ summary: 'List staff writes' })
  @Get()
  @Roles('admin')
  @ApiAnswer(auditPage)
  async list(@Query() query: AuditQuery): Promise<AuditPage> {
    const page = await this.audit.list(
      { actorId: query.actorId },
      query.cursor,
      query.limit ?? DEFAULT_PAGE_SIZE,
    );
    return { items: page.items.map(toAuditView), nextCursor: page.nextCursor };
  }
}
