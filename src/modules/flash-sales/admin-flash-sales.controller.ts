import { Body, Controller, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '../../common/auth/index.js';
import { ApiAnswer } from '../../common/http/index.js';
import { CreateFlashSaleDto } from './flash-sale.dto.js';
import { flashSaleView, type FlashSaleView } from './flash-sale.view.js';
import { FlashSalesService } from './flash-sales.service.js';

@ApiTags('flash sales admin')
@Controller('admin/flash-sales')
export class AdminFlashSalesController {
  constructor(private readonly sales: FlashSalesService) {}

  /** 201 the sale; its stock is taken off the product's now (409 if the product has less). */
  @ApiOperation({ summary: 'Create a flash sale' })
  @Post()
  @Roles('operator', 'admin')
  @ApiAnswer(flashSaleView, { status: 201, errors: ['NOT_FOUND', 'CONFLICT'] })
  create(@CurrentUser() staff: AuthUser, @Body() body: CreateFlashSaleDto): Promise<FlashSaleView> {
    return this.sales.create(staff.userId, body);
  }
}
