import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Registry } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { OrdersModule } from '../orders/index.js';
import { UsersModule } from '../users/index.js';
import { WechatModule } from '../wechat/index.js';
import { AdminOrdersController } from './admin-orders.controller.js';
import { FulfilmentService } from './fulfilment.service.js';
import { OrderPayment } from './order-payment.entity.js';
import { OrderRefund } from './order-refund.entity.js';
import { PaymentJobs } from './payment-jobs.js';
import { PaymentMetrics } from './payment-metrics.js';
import {
  OrderPaymentController,
  SandboxPaymentsController,
  WechatPayNotifyController,
} from './payments.controller.js';
import { PaymentsService } from './payments.service.js';
import { RefundsService } from './refunds.service.js';
import { ShippingUploads } from './shipping-upload.consumer.js';
import { TradeManagement } from './trade-management.service.js';
import { WechatPayNotifications } from './wechat-pay-notifications.js';
import { WechatPay } from './wechat-pay/index.js';
import { WechatSettlements } from './wechat-settlement.consumer.js';
import { WechatShippingController } from './wechat-shipping.controller.js';
import { WechatShippingOrders } from './wechat-shipping-orders.service.js';

class WechatPayCloser implements OnApplicationShutdown {
  constructor(@Inject(WechatPay) private readonly pay: WechatPay) {}

  onApplicationShutdown(): void {
    this.pay.close();
  }
}

/** WeChat Pay and the order lifecycle after placing: pay, confirm, notify, refund, ship, complete. */
@Module({
  imports: [
    TypeOrmModule.forFeature([OrderPayment, OrderRefund]),
    OrdersModule,
    UsersModule,
    WechatModule,
  ],
  controllers: [
    OrderPaymentController,
    WechatPayNotifyController,
    SandboxPaymentsController,
    AdminOrdersController,
    WechatShippingController,
  ],
  providers: [
    {
      provide: WechatPay,
      inject: [APP_CONFIG, Registry],
      useFactory: (config: AppConfig, registry: Registry) => WechatPay.create(config, registry),
    },
    WechatPayCloser,
    PaymentMetrics,
    PaymentsService,
    RefundsService,
    FulfilmentService,
    WechatPayNotifications,
    PaymentJobs,
    ShippingUploads,
    WechatSettlements,
    TradeManagement,
    WechatShippingOrders,
  ],
  // After-sales refunds through the same engine (docs/after-sales.md).
  exports: [RefundsService],
})
export class PaymentsModule {}
