import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated, CurrentUser, type AuthUser } from '../../common/auth/index.js';
import { ApiAnswer, parseId } from '../../common/http/index.js';
import { IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY, parseIdempotencyKey } from '../orders/index.js';
import { CreateAfterSalesDto, ReturnShipmentDto } from './after-sales.dto.js';
import { AfterSalesService } from './after-sales.service.js';
import {
  afterSalesList,
  afterSalesView,
  type AfterSalesList,
  type AfterSalesView,
} from './after-sales.view.js';

/** The buyer's side of after-sales (docs/after-sales.md); another user's order or request is a 404. */
@ApiTags('after-sales')
@Controller()
@Authenticated()
export class AfterSalesController {
  constructor(private readonly afterSales: AfterSalesService) {}

  /**
   * 201 with the new request; a retry with the same key and body answers
   * 200 with the same request and `Idempotent-Replayed: true`.
   */
  @ApiOperation({ summary: 'Ask for a refund or a return of my order' })
  @Post('orders/:id/after-sales')
  @ApiHeader({
    name: IDEMPOTENCY_HEADER,
    required: true,
    description: '8-64 chars of [A-Za-z0-9._:-]',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
  })
  @ApiAnswer(afterSalesView, {
    status: 201,
    description: 'the new request',
    errors: ['CONFLICT', 'AFTER_SALES_NOT_ALLOWED'],
  })
  @ApiAnswer(afterSalesView, {
    description: 'a retry with the same key and body: the request it made',
    headers: {
      'Idempotent-Replayed': {
        description: 'always true',
        schema: { type: 'string', enum: ['true'] },
      },
    },
  })
  async create(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Headers('idempotency-key') rawKey: string | undefined,
    @Body() body: CreateAfterSalesDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AfterSalesView> {
    const orderId = parseId(id, 'order');
    const key = parseIdempotencyKey(rawKey);
    const { request, replayed } = await this.afterSales.create(user.userId, orderId, key, body);
    if (replayed) reply.status(200).header('Idempotent-Replayed', 'true');
    return request;
  }

  @ApiOperation({ summary: "List my order's after-sales requests, newest first" })
  @Get('orders/:id/after-sales')
  @ApiAnswer(afterSalesList)
  async list(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<AfterSalesList> {
    return { items: await this.afterSales.listForOrder(user.userId, parseId(id, 'order')) };
  }

  @ApiOperation({ summary: 'Tell that I sent the goods of an approved return back' })
  @Post('after-sales/:id/return-shipment')
  @HttpCode(200)
  @ApiAnswer(afterSalesView, { errors: ['CONFLICT'] })
  returnShipment(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() body: ReturnShipmentDto,
  ): Promise<AfterSalesView> {
    return this.afterSales.returnShipment(user.userId, parseId(id, 'after-sales request'), body);
  }

  @ApiOperation({ summary: 'Withdraw my after-sales request before staff decide' })
  @Post('after-sales/:id/cancel')
  @HttpCode(200)
  @ApiAnswer(afterSalesView, { errors: ['CONFLICT'] })
  cancel(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<AfterSalesView> {
    return this.afterSales.cancel(user.userId, parseId(id, 'after-sales request'));
  }
}
