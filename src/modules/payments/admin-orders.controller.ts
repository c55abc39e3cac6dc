import { Body, Controller, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '../../common/auth/index.js';
import { ApiAnswer, parseId } from '../../common/http/index.js';
import { ConsistencyService } from '../../infra/consistency/index.js';
import { OrdersService, orderView, parseIdempotencyKey, type OrderView } from '../orders/index.js';
import { FulfilmentService } from './fulfilment.service.js';
import { RefundDto, ShipDto } from './payments.dto.js';
import { RefundsService } from './refunds.service.js';

/** Admin operations on any user's order: ship, cancel, refund. */
@ApiTags('orders admin')
@Controller('admin/orders/:id')
export class AdminOrdersController {
  constructor(
    private readonly orders: OrdersService,
    private readonly refunds: RefundsService,
    private readonly fulfilment: FulfilmentService,
    private readonly consistency: ConsistencyService,
  ) {}

  /** paid → shipped; the shipping information is uploaded to WeChat from the outbox. */
  @ApiOperation({ summary: 'Ship a paid order' })
  @Post('ship')
  @Roles('operator', 'admin')
  @HttpCode(200)
  @ApiAnswer(orderView, { errors: ['CONFLICT'] })
  async ship(
    @CurrentUser() staff: AuthUser,
    @Param('id') id: string,
    @Body() body: ShipDto,
  ): Promise<OrderView> {
    const order = await this.fulfilment.ship(parseId(id, 'order'), body, staff.userId);
    return this.view(order.userId, order.id);
  }

  /** Cancels a pending order (`cancelReason: "admin"`) and returns its stock. */
  @ApiOperation({ summary: 'Cancel a pending order (admin)' })
  @Post('cancel')
  @Roles('operator', 'admin')
  @HttpCode(200)
  @ApiAnswer(orderView, { errors: ['CONFLICT'] })
  async cancel(@CurrentUser() staff: AuthUser, @Param('id') id: string): Promise<OrderView> {
    const order = await this.orders.orderOf(parseId(id, 'order'));
    return this.orders.cancel(order.userId, order.id, 'admin', staff.userId);
  }

  /** Full (default) or partial refund → the order, `refunding`. */
  @ApiOperation({ summary: 'Refund an order' })
  @Post('refund')
  @Roles('finance', 'admin')
  @HttpCode(200)
  @ApiAnswer(orderView, { errors: ['CONFLICT', 'WECHAT_PAY_UPSTREAM'] })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: true,
    description: '8-64 chars of [A-Za-z0-9._:-]',
  })
  async refund(
    @CurrentUser() staff: AuthUser,
    @Param('id') id: string,
    @Headers('idempotency-key') key: string | undefined,
    @Body() body: RefundDto,
  ): Promise<OrderView> {
    const idempotencyKey = parseIdempotencyKey(key);
    const order = await this.orders.orderOf(parseId(id, 'order'));
    await this.refunds.request(order.id, idempotencyKey, body, staff.userId);
    return this.view(order.userId, order.id);
  }

  private view(userId: number, orderId: number): Promise<OrderView> {
    return this.consistency.primaryReads(() => this.orders.get(userId, orderId));
  }
}
