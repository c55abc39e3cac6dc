import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogModule } from '../catalog/index.js';
import { ModerationModule } from '../moderation/index.js';
import { UsersModule } from '../users/index.js';
import { OrderCancelHooks } from './order-cancel.hooks.js';
import { OrderItem } from './order-item.entity.js';
import { Order } from './order.entity.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';
import { PaymentTimeout } from './payment-timeout.consumer.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([Order, OrderItem]),
    CatalogModule,
    ModerationModule,
    UsersModule,
  ],
  controllers: [OrdersController],
  providers: [OrdersService, OrderCancelHooks, PaymentTimeout],
  exports: [OrderCancelHooks],
})
export class OrdersModule {}
