import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogModule } from '../catalog/index.js';
import { ModerationModule } from '../moderation/index.js';
import { UsersModule } from '../users/index.js';
import { OrderCancelHooks } from './order-cancel.hooks.js';
import { OrderItem } from './order-item.entity.js';
import { OrderShipment } from './order-shipment.entity.js';
import { OrderTimelineEntry } from './order-timeline.entity.js';
import { OrderTransitions } from './order-transitions.js';
import { Order } from './order.entity.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';
import { PaymentTimeout } from './payment-timeout.consumer.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([Order, OrderItem, OrderShipment, OrderTimelineEntry]),
    CatalogModule,
    ModerationModule,
    UsersModule,
  ],
  controllers: [OrdersController],
  providers: [OrdersService, OrderCancelHooks, OrderTransitions, PaymentTimeout],
  exports: [OrderCancelHooks, OrdersService, OrderTransitions],
})
export class OrdersModule {}
