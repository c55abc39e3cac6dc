import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WechatModule } from '../wechat/index.js';
import { SubscribeCredit } from './subscribe-credit.entity.js';
import { SubscribeCredits } from './subscribe-credits.service.js';
import { SubscribeMessages } from './subscribe-messages.consumer.js';
import { SubscriptionsController } from './subscriptions.controller.js';
import { WechatSubscriptions } from './wechat-subscriptions.consumer.js';

/** Subscribe messages: the users' send credits and the consumer that turns order events into messages. */
@Module({
  imports: [TypeOrmModule.forFeature([SubscribeCredit]), WechatModule],
  controllers: [SubscriptionsController],
  providers: [SubscribeCredits, SubscribeMessages, WechatSubscriptions],
})
export class NotificationsModule {}
