import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CurrentUser, Roles, STAFF_ROLES, type AuthUser } from '../../../common/auth/index.js';
import { ApiAnswer, Budget } from '../../../common/http/index.js';
import { WritableWhenReadOnly } from '../../../infra/settings/index.js';
import { ThrottleAs } from '../../../infra/throttle/index.js';
import { clearSessionCookie } from './console-cookie.js';
import {
  consoleLoginTicket,
  consoleTicketStatus,
  type ConsoleLoginTicket,
  type ConsoleTicketStatus,
} from './console-login.view.js';
import { ConsoleLogins } from './console-login.service.js';
import { ConsoleSessions, checkWrite } from './console-sessions.js';

/**
 * The staff console's sign-in and sign-out (docs/console.md), outside the
 * /api/v1 prefix like the console itself. Signing in is not a data write:
 * it works while an operator has made the API read-only.
 */
@ApiTags('console')
@Controller('console')
export class ConsoleLoginController {
  constructor(
    private readonly logins: ConsoleLogins,
    private readonly sessions: ConsoleSessions,
  ) {}

  @ApiOperation({ summary: 'Start a console sign-in: a ticket and its mini-program code' })
  @Post('login-tickets')
  @HttpCode(201)
  @ThrottleAs('login')
  @Budget('wechat')
  @WritableWhenReadOnly()
  @ApiAnswer(consoleLoginTicket, { status: 201, errors: ['WECHAT_UPSTREAM'] })
  create(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ConsoleLoginTicket> {
    return this.logins.create(request, reply);
  }

  @ApiOperation({ summary: 'Approve a console sign-in from the mini-program (staff)' })
  @Post('login-tickets/:ticket/approve')
  @HttpCode(200)
  @Roles(...STAFF_ROLES)
  @WritableWhenReadOnly()
  @ApiAnswer(z.null(), { errors: ['CONFLICT', 'URI_TOO_LONG'] })
  async approve(@Param('ticket') ticket: string, @CurrentUser() user: AuthUser): Promise<null> {
    await this.logins.approve(ticket, user);
    return null;
  }

  @ApiOperation({ summary: 'Approve a console sign-in as the sandbox admin (development only)' })
  @Post('login-tickets/:ticket/dev-approve')
  @HttpCode(200)
  @ThrottleAs('login')
  @WritableWhenReadOnly()
  @ApiAnswer(z.null(), { errors: ['NOT_FOUND', 'CONFLICT', 'URI_TOO_LONG'] })
  async devApprove(@Param('ticket') ticket: string): Promise<null> {
    await this.logins.devApprove(ticket);
    return null;
  }

  @ApiOperation({ summary: 'Poll a console sign-in ticket (the first approved read signs in)' })
  @Get('login-tickets/:ticket')
  @ApiAnswer(consoleTicketStatus, { errors: ['URI_TOO_LONG'] })
  read(
    @Param('ticket') ticket: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ConsoleTicketStatus> {
    return this.logins.read(ticket, request, reply);
  }

  /**
   * Public, so that a browser whose session already ended (a role change, a
   * revocation) still gets its cookie cleared; the CSRF rule applies all the same.
   */
  @ApiOperation({ summary: 'Sign out of the console' })
  @Post('logout')
  @HttpCode(200)
  @WritableWhenReadOnly()
  @ApiAnswer(z.null(), { errors: ['FORBIDDEN'] })
  async logout(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<null> {
    checkWrite(request);
    await this.sessions.end(request);
    clearSessionCookie(reply, request);
    return null;
  }
}
