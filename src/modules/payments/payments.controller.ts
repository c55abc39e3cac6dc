import { Controller, HttpCode, Logger, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated, CurrentUser, type AuthUser } from '../../common/auth/index.js';
import { AppError } from '../../common/errors/index.js';
import { ApiAnswer, Budget, RawBody, parseId } from '../../common/http/index.js';
import { ConsistencyService } from '../../infra/consistency/index.js';
import { FeatureSwitch, WritableWhenReadOnly } from '../../infra/settings/index.js';
import { SkipThrottle } from '../../infra/throttle/index.js';
import { OrdersService, orderView, type OrderView } from '../orders/index.js';
import { jsapiPayView } from './payment.view.js';
import { PaymentsService } from './payments.service.js';
import { outTradeNoOf } from './trade-numbers.js';
import { WechatPayNotifications, type NotifyAnswer } from './wechat-pay-notifications.js';
import { WechatPay, signatureHeaders, type JsapiPayParams } from './wechat-pay/index.js';

/** The user's side of paying: wx.requestPayment parameters and the confirm after it. */
@ApiTags('payments')
@Controller('orders/:id/payment')
@Authenticated()
@FeatureSwitch('payments')
export class OrderPaymentController {
  constructor(
    private readonly payments: PaymentsService,
    private readonly orders: OrdersService,
    private readonly consistency: ConsistencyService,
  ) {}

  /** Exactly the parameters of wx.requestPayment; a pending order only (else 409). */
  @ApiOperation({ summary: 'Get the wx.requestPayment parameters of my order' })
  @Post()
  @HttpCode(200)
  @Budget('wechat')
  @ApiAnswer(jsapiPayView, { errors: ['CONFLICT', 'ADDRESS_REQUIRED', 'WECHAT_PAY_UPSTREAM'] })
  pay(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<JsapiPayParams> {
    return this.payments.payParams(user.userId, parseId(id, 'order'));
  }

  /** After wx.requestPayment succeeds: asks WeChat Pay and answers the order (`paid` if it says SUCCESS). */
  @ApiOperation({ summary: 'Confirm my payment with WeChat Pay' })
  @Post('confirm')
  @HttpCode(200)
  @Budget('wechat')
  @ApiAnswer(orderView, { errors: ['WECHAT_PAY_UPSTREAM'] })
  async confirm(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<OrderView> {
    const orderId = parseId(id, 'order');
    await this.payments.confirm(user.userId, orderId);
    await this.consistency.markWrite(user.userId);
    return this.consistency.primaryReads(() => this.orders.get(user.userId, orderId));
  }
}

/** WeChat Pay's notifications. Answers in WeChat Pay's own format, not the envelope. */
@ApiTags('payments')
@Controller('payments/wechat')
export class WechatPayNotifyController {
  private readonly logger = new Logger('PaymentNotify');

  constructor(private readonly notifications: WechatPayNotifications) {}

  @ApiOperation({ summary: 'Receive a WeChat Pay notification' })
  @Post('notify')
  @RawBody()
  @SkipThrottle()
  @WritableWhenReadOnly()
  async notify(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    let answer: NotifyAnswer | { status: 500; message: string };
    try {
      answer = await this.notifications.handle(signatureHeaders(request.headers), raw);
    } catch (err) {
      // Our failure (database down…): WeChat Pay retries anything but a 2xx.
      this.logger.error(
        `notification not applied: ${err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error'}`,
      );
      answer = { status: 500, message: 'temporarily unable to process the notification' };
    }
    if (answer.status === 204) {
      await reply.status(204).send();
      return;
    }
    await reply.status(answer.status).send({ code: 'FAIL', message: answer.message });
  }
}

/**
 * The sandbox's "user paid" button (development and the embedded quick
 * start): WeChat Pay's notification, signed and encrypted by the sandbox,
 * goes through the same handler as a real one. 404 with real credentials.
 */
@ApiTags('payments')
@Controller('dev/payments')
@Authenticated()
export class SandboxPaymentsController {
  constructor(
    private readonly pay: WechatPay,
    private readonly notifications: WechatPayNotifications,
    private readonly orders: OrdersService,
    private readonly consistency: ConsistencyService,
  ) {}

  @ApiOperation({ summary: 'Simulate a successful payment (sandbox)' })
  @Post(':orderId/succeed')
  @HttpCode(200)
  @ApiAnswer(orderView, { errors: ['NOT_FOUND', 'CONFLICT'] })
  async succeed(@CurrentUser() user: AuthUser, @Param('orderId') id: string): Promise<OrderView> {
    const sandbox = this.pay.sandbox;
    if (!sandbox)
      throw new AppError('NOT_FOUND', 'no sandbox: WeChat Pay credentials are configured');
    const orderId = parseId(id, 'order');
    await this.orders.get(user.userId, orderId);
    const notification = sandbox.pay(outTradeNoOf(orderId));
    if (!notification) {
      throw new AppError(
        'CONFLICT',
        'no sandbox prepay for this order: call POST /orders/:id/payment first',
      );
    }
    const answer = await this.notifications.handle(notification.headers, notification.body);
    if (answer.status !== 204) throw new AppError('CONFLICT', answer.message);
    await this.consistency.markWrite(user.userId);
    return this.consistency.primaryReads(() => this.orders.get(user.userId, orderId));
  }
}
