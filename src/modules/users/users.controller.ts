import { Body, Controller, Get, Patch, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAnswer, Lean } from '../../common/http/index.js';
import { Authenticated, CurrentUser, type AuthUser } from '../../common/auth/index.js';
import { UpdateMeDto } from './update-me.dto.js';
import { UsersService } from './users.service.js';
import { userView, type UserView } from './user.view.js';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @ApiOperation({ summary: 'Get my profile' })
  @Get('me')
  @Lean()
  @Authenticated()
  @ApiAnswer(userView)
  me(@CurrentUser() user: AuthUser): Promise<UserView> {
    return this.users.getView(user.userId);
  }

  /** Either field, or both; what is absent stays. PUT because `wx.request` cannot send PATCH. */
  @ApiOperation({ summary: 'Update my nickname or avatar' })
  @Put('me')
  @Authenticated()
  @ApiAnswer(userView, { errors: ['CONTENT_RISKY', 'WECHAT_UPSTREAM'] })
  update(@CurrentUser() user: AuthUser, @Body() body: UpdateMeDto): Promise<UserView> {
    return this.users.updateProfile(user.userId, body);
  }

  /** The same as PUT, for clients other than mini-programs. */
  @ApiOperation({ summary: 'Update my nickname or avatar (PATCH alias of PUT)' })
  @Patch('me')
  @Authenticated()
  @ApiAnswer(userView, { errors: ['CONTENT_RISKY', 'WECHAT_UPSTREAM'] })
  patch(@CurrentUser() user: AuthUser, @Body() body: UpdateMeDto): Promise<UserView> {
    return this.users.updateProfile(user.userId, body);
  }
}
