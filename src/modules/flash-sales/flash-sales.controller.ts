import { Body, Controller, Get, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser, type AuthUser } from '../../common/auth/index.js';
import { ApiAnswer, parseId } from '../../common/http/index.js';
import { FeatureSwitch } from '../../infra/settings/index.js';
import { FoldedHit, ThrottleAs, type DeferredHit } from '../../infra/throttle/index.js';
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
   * that precedence. The same Idempotency-Key names the same ticket. The
   * flash throttle is counted in the admission's own Redis call where it can
   * share it (`folded`); an answer that needed no call counts it here first.
   */
  @ApiOperation({ summary: 'Buy in a flash sale' })
  @Post(':id/orders')
  @HttpCode(202)
  @Authenticated()
  @ApiAnswer(admissionView, {
    status: 202,
    description: 'admitted: the order is written asynchronously (poll the ticket)',
    errors: ['FLASH_SALE_NOT_LIVE', 'FLASH_SALE_LIMIT_REACHED', 'FLASH_SALE_SOLD_OUT'],
  })
  @FeatureSwitch('flashSales')
  @ThrottleAs('flash', { folded: true })
  @ApiHeader({
    name: IDEMPOTENCY_HEADER,
    required: true,
    description: '8-64 chars of [A-Za-z0-9._:-]',
  })
  async buy(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Headers('idempotency-key') rawKey: string | undefined,
    @Body() body: BuyFlashSaleDto,
    @FoldedHit() hit: DeferredHit | undefined,
  ): Promise<AdmissionView> {
    const saleId = parseId(id, 'flash sale');
    const key = parseIdempotencyKey(rawKey);
    const view = await this.sales.buy(user.userId, saleId, body.quantity, key, hit);
    const refusal = await hit?.settle();
    if (refusal) throw refusal;
    return view;
  }

  @ApiOperation({ summary: 'Poll a flash-sale ticket' })
  @Get('tickets/:ticket')
  @Authenticated()
  @ApiAnswer(ticketView, { errors: ['NOT_FOUND'] })
  ticket(@CurrentUser() user: AuthUser, @Param('ticket') ticket: string): Promise<TicketView> {
    return this.sales.ticket(user.userId, ticket);
  }
}
