import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated, CurrentUser, type AuthUser } from '../../common/auth/index.js';
import {
  ApiAnswer,
  Budget,
  Compressed,
  DEFAULT_PAGE_SIZE,
  parseId,
} from '../../common/http/index.js';
import { FeatureSwitch } from '../../infra/settings/index.js';
import { ThrottleAs } from '../../infra/throttle/index.js';
import { CreateOrderDto, ListOrdersQuery, SetOrderAddressDto } from './order.dto.js';
import {
  orderDetailView,
  orderPage,
  orderView,
  type OrderDetailView,
  type OrderPage,
  type OrderView,
} from './order.view.js';
import { OrdersService } from './orders.service.js';
import { IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY, parseIdempotencyKey } from './params.js';

/** The signed-in user's own orders; another user's order is a 404. */
@ApiTags('orders')
@Controller('orders')
@Authenticated()
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  /**
   * 201 with the new order; a retry with the same key and body answers 200
   * with the same order and `Idempotent-Replayed: true`.
   */
  @ApiOperation({ summary: 'Place an order' })
  @Post()
  @FeatureSwitch('orders')
  @ThrottleAs('orders')
  @Budget('orders')
  @ApiHeader({
    name: IDEMPOTENCY_HEADER,
    required: true,
    description: '8-64 chars of [A-Za-z0-9._:-]',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
  })
  @ApiAnswer(orderView, {
    status: 201,
    description: 'the new order',
    errors: ['CONFLICT', 'NOT_FOUND', 'CONTENT_RISKY', 'WECHAT_UPSTREAM'],
  })
  @ApiAnswer(orderView, {
    description: 'a retry with the same key and body: the order it placed',
    headers: {
      'Idempotent-Replayed': {
        description: 'always true',
        schema: { type: 'string', enum: ['true'] },
      },
    },
  })
  async place(
    @CurrentUser() user: AuthUser,
    @Headers('idempotency-key') rawKey: string | undefined,
    @Body() body: CreateOrderDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<OrderView> {
    const key = parseIdempotencyKey(rawKey);
    const { order, replayed } = await this.orders.place(user.userId, key, body);
    if (replayed) reply.status(200).header('Idempotent-Replayed', 'true');
    return order;
  }

  @ApiOperation({ summary: 'List my orders' })
  @Get()
  @Compressed()
  @ApiAnswer(orderPage)
  list(@CurrentUser() user: AuthUser, @Query() query: ListOrdersQuery): Promise<OrderPage> {
    return this.orders.list(user.userId, query.cursor, query.limit ?? DEFAULT_PAGE_SIZE);
  }

  @ApiOperation({ summary: 'Get one of my orders' })
  @Get(':id')
  @ApiAnswer(orderDetailView)
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<OrderDetailView> {
    return this.orders.detail(user.userId, parseId(id, 'order'));
  }

  @ApiOperation({ summary: 'Cancel my pending order' })
  @Post(':id/cancel')
  @HttpCode(200)
  @ApiAnswer(orderView, { errors: ['CONFLICT'] })
  cancel(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<OrderView> {
    return this.orders.cancel(user.userId, parseId(id, 'order'));
  }

  @ApiOperation({ summary: 'Set the delivery address of my order (before it ships)' })
  @Put(':id/address')
  @ApiAnswer(orderView, { errors: ['CONFLICT'] })
  setAddress(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() body: SetOrderAddressDto,
  ): Promise<OrderView> {
    return this.orders.setAddress(user.userId, parseId(id, 'order'), body);
  }

  @ApiOperation({ summary: 'Confirm that my shipped order arrived' })
  @Post(':id/confirm-receipt')
  @HttpCode(200)
  @ApiAnswer(orderView, { errors: ['CONFLICT'] })
  confirmReceipt(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<OrderView> {
    return this.orders.confirmReceipt(user.userId, parseId(id, 'order'));
  }
}
