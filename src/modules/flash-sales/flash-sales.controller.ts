import { Body, Controller, Get, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser, type AuthUser } from '../../common/auth/index.js';
import { ApiAnswer, Lean, parseId } from '../../common/http/index.js';
import { FeatureSwitch } from '../../infra/settings/index.js';
import { ThrottleAs } from '../../infra/throttle/index.js';
import { IDEMPOTENCY_HEADER, parseIdempotencyKey } from '../orders/index.js';
import { BuyFlashSaleDto } from './flash-sale.dto.js';
import {
  admissionView,
  flashSaleView,
  ticketView,
  type AdmissionView,
  type FlashSaleView,
  type TicketView,
} from './flash-sale.view.js';
import { FlashSalesService } from './flash-sales.service.js';

@ApiTags('flash sales')
@Controller('flash-sales')
export class FlashSalesController {
  constructor(private readonly sales: FlashSalesService) {}

  /** Public and cached: `remaining` may lag by up to 1 s. */
  @ApiOperation({ summary: 'Get a flash sale' })
  @Get(':id')
  @ApiAnswer(flashSaleView)
  view(@Param('id') id: string): Promise<FlashSaleView> {
    return this.sales.view(parseId(id, 'flash sale'));
  }

  /**
   * 202 with a ticket when admitted; 409 40912 / 40911 / 40910 otherwise, in
   * that precedence. The same Idempotency-Key names the same ticket.
   */
  @ApiOperation({ summary: 'Buy in a flash sale' })
  @Post(':id/orders')
  @Lean()
  @HttpCode(202)
  @Authenticated()
  @ApiAnswer(admissionView, {
    status: 202,
    description: 'admitted: the order is written asynchronously (poll the ticket)',
    errors: ['FLASH_SALE_NOT_LIVE', 'FLASH_SALE_LIMIT_REACHED', 'FLASH_SALE_SOLD_OUT'],
  })
  @FeatureSwitch('flashSales')
  @ThrottleAs('flash')
  @ApiHeader({
    name: IDEMPOTENCY_HEADER,
    required: true,
    description: '8-64 chars of [A-Za-z0-9._:-]',
  })
  buy(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Headers('idempotency-key') rawKey: string | undefined,
    @Body() body: BuyFlashSaleDto,
  ): Promise<AdmissionView> {
    const saleId = parseId(id, 'flash sale');
    return this.sales.buy(user.userId, saleId, body.quantity, parseIdempotencyKey(rawKey));
  }

  @ApiOperation({ summary: 'Poll a flash-sale ticket' })
  @Get('tickets/:ticket')
  @Authenticated()
  @ApiAnswer(ticketView, { errors: ['NOT_FOUND'] })
  ticket(@CurrentUser() user: AuthUser, @Param('ticket') ticket: string): Promise<TicketView> {
    return this.sales.ticket(user.userId, ticket);
  }
}
