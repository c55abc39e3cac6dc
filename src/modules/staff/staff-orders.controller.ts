import { Readable } from 'node:stream';
import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles, STAFF_ROLES } from '../../common/auth/index.js';
import { ApiAnswer, parseId } from '../../common/http/index.js';
import { BackOfficeService } from './back-office.service.js';
import { OrderFiltersDto, OrderListQuery } from './order-filters.dto.js';
import {
  staffOrderPage,
  staffOrderView,
  type StaffOrderPage,
  type StaffOrderView,
} from './staff-order.view.js';

/** The back office's order reads (docs/staff.md). */
@ApiTags('staff')
@Controller('admin/orders')
export class StaffOrdersController {
  constructor(private readonly backOffice: BackOfficeService) {}

  @ApiOperation({ summary: 'List and search every order, newest first (staff)' })
  @Get()
  @Roles(...STAFF_ROLES)
  @ApiAnswer(staffOrderPage)
  list(@Query() query: OrderListQuery): Promise<StaffOrderPage> {
    return this.backOffice.listOrders(query);
  }

  /**
   * Streamed: the rows are written as they are read, at the pace the client
   * takes them (a Readable over the reader, so backpressure pauses the
   * reads).
   */
  @ApiOperation({ summary: 'Export the matching order lines as CSV (finance, admin)' })
  @Get('export')
  @Roles('finance', 'admin')
  @ApiAnswer(
    { mediaType: 'text/csv' },
    {
      description:
        'UTF-8 with a BOM, one line per order line, newest order first; cells a spreadsheet would run as a formula start with a single quote',
    },
  )
  async export(@Query() filters: OrderFiltersDto, @Res() reply: FastifyReply): Promise<void> {
    const chunks = await this.backOffice.exportOrders(filters);
    const day = new Date().toISOString().slice(0, 10);
    await reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename=orders-${day}.csv`)
      .header('cache-control', 'no-store')
      .send(Readable.from(chunks));
  }

  @ApiOperation({
    summary: 'Get any order with its payments, refunds, shipments and timeline (staff)',
  })
  @Get(':id')
  @Roles(...STAFF_ROLES)
  @ApiAnswer(staffOrderView)
  get(@Param('id') id: string): Promise<StaffOrderView> {
    return this.backOffice.order(parseId(id, 'order'));
  }
}
