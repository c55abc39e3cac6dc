import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, STAFF_ROLES, type AuthUser } from '../../common/auth/index.js';
import { ApiAnswer } from '../../common/http/index.js';
import { BackOfficeService } from './back-office.service.js';
import { UserListQuery } from './order-filters.dto.js';
import { staffUserPage, type StaffUserPage } from './staff-user.view.js';

/** The back office's user list (docs/staff.md). */
@ApiTags('staff')
@Controller('admin/users')
export class StaffUsersController {
  constructor(private readonly backOffice: BackOfficeService) {}

  @ApiOperation({
    summary: 'List and search users, newest first; phones masked but for admins (staff)',
  })
  @Get()
  @Roles(...STAFF_ROLES)
  @ApiAnswer(staffUserPage)
  list(@CurrentUser() staff: AuthUser, @Query() query: UserListQuery): Promise<StaffUserPage> {
    return this.backOffice.listUsers(query, staff.role === 'admin');
  }
}
