import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiAnswer, Budget } from '../../common/http/index.js';
import { WritableWhenReadOnly } from '../../infra/settings/index.js';
import { ThrottleAs } from '../../infra/throttle/index.js';
import { Authenticated, CurrentUser, type AuthUser } from '../../common/auth/index.js';
import { userView, type UserView } from '../users/index.js';
import { AuthService } from './auth.service.js';
import {
  loginResult,
  sessionView,
  tokenPair,
  type LoginResult,
  type SessionView,
  type TokenPair,
} from './auth.view.js';
import { LoginDto, PhoneDto, RefreshDto } from './login.dto.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @ApiOperation({ summary: 'Sign in with a wx.login code' })
  @Post('login')
  @HttpCode(200)
  @ThrottleAs('login')
  @Budget('wechat')
  @WritableWhenReadOnly()
  @ApiAnswer(loginResult, {
    errors: ['WECHAT_CODE_REJECTED', 'WECHAT_USER_RISKY', 'WECHAT_UPSTREAM'],
  })
  login(@Body() body: LoginDto): Promise<LoginResult> {
    return this.auth.login(body);
  }

  @ApiOperation({ summary: 'Exchange a refresh token for a new token pair' })
  @Post('refresh')
  @HttpCode(200)
  @WritableWhenReadOnly()
  @ApiAnswer(tokenPair, { errors: ['UNAUTHORIZED', 'SESSION_REVOKED', 'CONFLICT'] })
  refresh(@Body() body: RefreshDto): Promise<TokenPair> {
    return this.auth.refresh(body.refreshToken);
  }

  @ApiOperation({ summary: 'Sign out this session' })
  @Post('logout')
  @HttpCode(200)
  @Authenticated()
  @ApiAnswer(z.null())
  async logout(@CurrentUser() user: AuthUser): Promise<null> {
    await this.auth.logout(user);
    return null;
  }

  @ApiOperation({ summary: 'Sign out every session of the user' })
  @Post('logout-all')
  @HttpCode(200)
  @Authenticated()
  @ApiAnswer(z.null())
  async logoutAll(@CurrentUser() user: AuthUser): Promise<null> {
    await this.auth.logoutAll(user);
    return null;
  }

  @ApiOperation({ summary: 'List my sessions' })
  @Get('sessions')
  @Authenticated()
  @ApiAnswer(z.array(sessionView))
  sessions(@CurrentUser() user: AuthUser): Promise<SessionView[]> {
    return this.auth.listSessions(user);
  }

  @ApiOperation({ summary: 'Bind my phone number from a getPhoneNumber code' })
  @Post('phone')
  @HttpCode(200)
  @Budget('wechat')
  @Authenticated()
  @ApiAnswer(userView, { errors: ['WECHAT_CODE_REJECTED', 'WECHAT_UPSTREAM'] })
  phone(@CurrentUser() user: AuthUser, @Body() body: PhoneDto): Promise<UserView> {
    return this.auth.bindPhone(user, body.code);
  }
}
