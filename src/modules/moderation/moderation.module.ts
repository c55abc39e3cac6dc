import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WechatModule } from '../wechat/index.js';
import { ContentFlag } from './content-flag.entity.js';
import { ContentFlagsController } from './content-flags.controller.js';
import { ContentSecurity } from './content-security.service.js';

/** Content security of user text (msgSecCheck) and the admins' flag queue. */
@Module({
  imports: [TypeOrmModule.forFeature([ContentFlag]), WechatModule],
  controllers: [ContentFlagsController],
  providers: [ContentSecurity],
  exports: [ContentSecurity],
})
export class ModerationModule {}
