import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, STAFF_ROLES, type AuthUser } from '../../common/auth/index.js';
import { ApiAnswer, DEFAULT_PAGE_SIZE, parseId } from '../../common/http/index.js';
import {
  AfterSalesQueueQuery,
  ApproveAfterSalesDto,
  RejectAfterSalesDto,
} from './after-sales.dto.js';
import { AfterSalesService } from './after-sales.service.js';
import {
  afterSalesPage,
  afterSalesView,
  type AfterSalesPage,
  type AfterSalesView,
} from './after-sales.view.js';

/** Staff decide after-sales requests (docs/after-sales.md); each decision is audited. */
@ApiTags('after-sales admin')
@Controller('admin/after-sales')
export class AdminAfterSalesController {
  constructor(private readonly afterSales: AfterSalesService) {}

  @ApiOperation({ summary: 'The after-sales queue, oldest first (staff)' })
  @Get()
  @Roles(...STAFF_ROLES)
  @ApiAnswer(afterSalesPage)
  list(@Query() query: AfterSalesQueueQuery): Promise<AfterSalesPage> {
    return this.afterSales.queue(query.status, query.cursor, query.limit ?? DEFAULT_PAGE_SIZE);
  }

  /** A `refund` starts its refund at once; a `return_refund` waits for the goods. */
  @ApiOperation({ summary: 'Approve an after-sales request' })
  @Post(':id/approve')
  @Roles('support', 'finance', 'admin')
  @HttpCode(200)
  @ApiAnswer(afterSalesView, { errors: ['CONFLICT', 'WECHAT_PAY_UPSTREAM'] })
  approve(
    @CurrentUser() staff: AuthUser,
    @Param('id') id: string,
    @Body() body: ApproveAfterSalesDto,
  ): Promise<AfterSalesView> {
    return this.afterSales.approve(staff.userId, parseId(id, 'after-sales request'), body);
  }

  @ApiOperation({ summary: 'Reject an after-sales request' })
  @Post(':id/reject')
  @Roles('support', 'finance', 'admin')
  @HttpCode(200)
  @ApiAnswer(afterSalesView, { errors: ['CONFLICT'] })
  reject(
    @CurrentUser() staff: AuthUser,
    @Param('id') id: string,
    @Body() body: RejectAfterSalesDto,
  ): Promise<AfterSalesView> {
    return this.afterSales.reject(staff.userId, parseId(id, 'after-sales request'), body);
  }

  @ApiOperation({ summary: 'The returned goods arrived: start the refund' })
  @Post(':id/receive')
  @Roles('operator', 'finance', 'admin')
  @HttpCode(200)
  @ApiAnswer(afterSalesView, { errors: ['CONFLICT', 'WECHAT_PAY_UPSTREAM'] })
  receive(@CurrentUser() staff: AuthUser, @Param('id') id: string): Promise<AfterSalesView> {
    return this.afterSales.receive(staff.userId, parseId(id, 'after-sales request'));
  }
}
