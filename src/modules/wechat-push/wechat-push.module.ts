import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Registry } from 'prom-client';
import { WechatPushAdminController } from './wechat-push-admin.controller.js';
import { WechatPushController } from './wechat-push.controller.js';
import { WechatPushMessage } from './wechat-push-message.entity.js';
import { WechatPushMetrics } from './wechat-push-metrics.js';
import { WechatPushReceiver } from './wechat-push.service.js';

/**
 * WeChat's side of the conversation: POST /wechat/push stores each message
 * once and turns it into a `wechat.push.*` outbox event; the modules that
 * act on one (orders settled, credits, media checks) consume it.
 */
@Module({
  imports: [TypeOrmModule.forFeature([WechatPushMessage])],
  controllers: [WechatPushController, WechatPushAdminController],
  providers: [
    WechatPushReceiver,
    {
      provide: WechatPushMetrics,
      inject: [Registry],
      useFactory: (registry: Registry) => new WechatPushMetrics(registry),
    },
  ],
})
export class WechatPushModule {}
