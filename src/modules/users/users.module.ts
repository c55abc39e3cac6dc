import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ModerationModule } from '../moderation/index.js';
import { WechatModule } from '../wechat/index.js';
import { AvatarChecks } from './avatar-checks.service.js';
import { MediaCheck } from './media-check.entity.js';
import { Address } from './address.entity.js';
import { AddressesController } from './addresses.controller.js';
import { AddressesService } from './addresses.service.js';
import { AdminUsersController } from './admin-users.controller.js';
import { User } from './user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([User, Address, MediaCheck]), ModerationModule, WechatModule],
  controllers: [UsersController, AddressesController, AdminUsersController],
  providers: [UsersService, AddressesService, AvatarChecks],
  exports: [UsersService, AddressesService],
})
export class UsersModule {}
