import { Module } from '@nestjs/common';
import { BackOfficeService } from './back-office.service.js';
import { StaffOrdersController } from './staff-orders.controller.js';
import { StaffUsersController } from './staff-users.controller.js';

/** The back office's reads: orders, their export, users (docs/staff.md). */
@Module({
  controllers: [StaffOrdersController, StaffUsersController],
  providers: [BackOfficeService],
})
export class StaffModule {}
