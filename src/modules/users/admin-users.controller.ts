import { Body, Controller, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '../../common/auth/index.js';
import { ApiAnswer, parseId } from '../../common/http/index.js';
import { SetRoleDto } from './set-role.dto.js';
import { userView, type UserView } from './user.view.js';
import { UsersService } from './users.service.js';

/** Staff roles: given and taken by admins. */
@ApiTags('admin')
@Controller('admin/users')
export class AdminUsersController {
  constructor(private readonly users: UsersService) {}

  /** Applies at the user's next request on every replica (staff routes read the role each time). */
  @ApiOperation({ summary: "Set a user's role (a staff role, or user)" })
  @Put(':id/role')
  @Roles('admin')
  @ApiAnswer(userView, { errors: ['CONFLICT'] })
  setRole(
    @CurrentUser() admin: AuthUser,
    @Param('id') id: string,
    @Body() body: SetRoleDto,
  ): Promise<UserView> {
    return this.users.setRole(admin.userId, parseId(id, 'user'), body.role);
  }
}
