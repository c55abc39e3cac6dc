import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OrdersModule } from '../orders/index.js';
import { PaymentsModule } from '../payments/index.js';
import { AdminAfterSalesController } from './admin-after-sales.controller.js';
import { AfterSalesController } from './after-sales.controller.js';
import { AfterSalesRequest } from './after-sales.entity.js';
import { AfterSalesService } from './after-sales.service.js';
import { RefundSettledConsumer } from './refund-settled.consumer.js';

/** Refund and return requests on orders, decided by staff (docs/after-sales.md). */
@Module({
  imports: [TypeOrmModule.forFeature([AfterSalesRequest]), OrdersModule, PaymentsModule],
  controllers: [AfterSalesController, AdminAfterSalesController],
  providers: [AfterSalesService, RefundSettledConsumer],
})
export class AfterSalesModule {}
