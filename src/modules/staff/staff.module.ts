import { Module } from '@nestjs/common';
import { BackOfficeService } from './back-office.service.js';
import { DashboardController } from './dashboard.controller.js';
import { DashboardService } from './dashboard.service.js';
import { StaffOrdersController } from './staff-orders.controller.js';
import { StaffUsersController } from './staff-users.controller.js';

/** The back office's reads: orders, their export, users, the dashboard (docs/staff.md). */
@Module({
  controllers: [StaffOrdersController, StaffUsersController, DashboardController],
  providers: [BackOfficeService, DashboardService],
})
export class StaffModule {}
