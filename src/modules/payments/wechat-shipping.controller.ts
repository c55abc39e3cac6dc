import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '../../common/auth/index.js';
import { ApiAnswer, Budget, parseId } from '../../common/http/index.js';
import { WechatShippingOrders } from './wechat-shipping-orders.service.js';
import {
  receiptReminderView,
  wechatReconcileView,
  type ReceiptReminderView,
  type WechatReconcileView,
} from './wechat-shipping.view.js';

/** An order against WeChat's order-shipping management, for staff. */
@ApiTags('orders admin')
@Controller('admin/orders/:id')
export class WechatShippingController {
  constructor(private readonly shipping: WechatShippingOrders) {}

  /** get_order; a `shipped` order WeChat has confirmed or settled becomes `completed`. */
  @ApiOperation({ summary: "Reconcile an order with WeChat's order-shipping management" })
  @Post('wechat-reconcile')
  @Roles('operator', 'admin')
  @HttpCode(200)
  @Budget('wechat')
  @ApiAnswer(wechatReconcileView, { errors: ['CONFLICT', 'WECHAT_UPSTREAM'] })
  reconcile(@CurrentUser() staff: AuthUser, @Param('id') id: string): Promise<WechatReconcileView> {
    return this.shipping.reconcile(parseId(id, 'order'), staff.userId);
  }

  /** The goods arrived: WeChat reminds the buyer to confirm receipt (once per order). */
  @ApiOperation({ summary: 'Have WeChat remind the buyer to confirm receipt' })
  @Post('wechat-remind-receipt')
  @Roles('operator', 'admin')
  @HttpCode(200)
  @Budget('wechat')
  @ApiAnswer(receiptReminderView, { errors: ['CONFLICT', 'WECHAT_UPSTREAM'] })
  remindReceipt(@Param('id') id: string): Promise<ReceiptReminderView> {
    return this.shipping.remindReceipt(parseId(id, 'order'));
  }
}
