import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STAFF_ROLES, type AuthUser } from '../../../common/auth/index.js';
import { AppError } from '../../../common/errors/index.js';
import { APP_CONFIG, type AppConfig } from '../../../config/index.js';
import { UsersService } from '../../users/index.js';
import { SandboxWechatClient, WechatClient } from '../../wechat/index.js';
import { SessionStore } from '../sessions/index.js';
import { SessionKeyCipher, newRefreshToken, newSessionId } from '../tokens/index.js';
import {
  BINDER_COOKIE,
  clearBinderCookie,
  cookieOf,
  newCookieSecret,
  setBinderCookie,
  setSessionCookie,
  sha256,
} from './console-cookie.js';
import type { ConsoleLoginTicket, ConsoleTicketStatus } from './console-login.view.js';
import { ConsoleSessions } from './console-sessions.js';
import { ConsoleStore, type ConsoleGrant } from './console-store.js';

/** The mini-program page that approves a ticket (examples/miniprogram, pages/console-login). */
export const CONSOLE_LOGIN_PAGE = 'pages/console-login/index';
/** The development sign-in's user (docs/console.md): an admin that exists only in the sandbox. */
export const DEV_CONSOLE_OPENID = 'dev-console-admin';
// 128 bits in base64url: 22 characters, inside the 32 a mini-program code's `scene` may hold.
const TICKET = /^[A-Za-z0-9_-]{22}$/;

const ticketUsed = () => new AppError('CONFLICT', 'ticket expired or already used');

/**
 * Sign-in by scan (docs/console.md): the browser asks for a ticket and shows
 * its mini-program code, a staff member scans it and approves it in the
 * mini-program (bearer), and the browser's next poll gets the session cookie.
 */
@Injectable()
export class ConsoleLogins {
  private readonly ticketTtlMs: number;
  private readonly refreshTtlSec: number;
  private readonly sandbox: boolean;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly store: ConsoleStore,
    private readonly sessions: ConsoleSessions,
    private readonly wechat: WechatClient,
    private readonly users: UsersService,
    private readonly staffSessions: SessionStore,
    private readonly cipher: SessionKeyCipher,
  ) {
    this.ticketTtlMs = config.console.ticketTtlMs;
    this.refreshTtlSec = config.jwt.refreshTtl;
    // Without WeChat credentials, and never in production (config refuses
    // production without them anyway; this says it twice on purpose).
    this.sandbox = wechat instanceof SandboxWechatClient && config.env !== 'production';
  }

  async create(request: FastifyRequest, reply: FastifyReply): Promise<ConsoleLoginTicket> {
    const ticket = randomBytes(16).toString('base64url');
    // The code first: a WeChat failure leaves no ticket behind.
    const image = await this.wechat.wxaCodeUnlimited({
      scene: ticket,
      page: CONSOLE_LOGIN_PAGE,
      width: 280,
    });
    const binder = newCookieSecret();
    await this.store.createTicket(ticket, sha256(binder), this.ticketTtlMs);
    setBinderCookie(reply, request, binder, Math.ceil(this.ticketTtlMs / 1000));
    return {
      ticket,
      expiresAt: new Date(Date.now() + this.ticketTtlMs).toISOString(),
      qrcode: `data:${image.contentType};base64,${image.body.toString('base64')}`,
    };
  }

  /** A staff member's approval from the mini-program; 409 when expired or used. */
  async approve(ticket: string, user: AuthUser): Promise<void> {
    await this.approveAs(ticket, await this.grantOf(user.userId, user.sessionId));
  }

  /** The development sign-in: approves as the sandbox's admin; 404 outside the sandbox. */
  async devApprove(ticket: string): Promise<void> {
    if (!this.sandbox) {
      throw new AppError('NOT_FOUND', 'no development sign-in: WeChat credentials are configured');
    }
    if (!TICKET.test(ticket)) throw ticketUsed();
    await this.approveAs(ticket, await this.devAdminSession());
  }

  /** The browser's poll: the first read of an approved ticket sets the session cookie. */
  async read(
    ticket: string,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<ConsoleTicketStatus> {
    const binder = cookieOf(request, BINDER_COOKIE);
    if (!TICKET.test(ticket) || binder === undefined) return { status: 'expired' };
    const read = await this.store.readTicket(ticket, sha256(binder));
    if (read.status !== 'approved') return { status: read.status };
    const id = await this.sessions.start(read.grant);
    setSessionCookie(reply, request, id, this.sessions.cookieMaxAgeSec);
    clearBinderCookie(reply, request);
    return { status: 'approved' };
  }

  private async approveAs(ticket: string, grant: ConsoleGrant): Promise<void> {
    if (!TICKET.test(ticket) || !(await this.store.approveTicket(ticket, grant))) {
      throw ticketUsed();
    }
  }

  /** The sandbox admin and a staff session of its own, as a login would make. */
  private async devAdminSession(): Promise<ConsoleGrant> {
    const { user } = await this.users.upsertByOpenid({
      openid: DEV_CONSOLE_OPENID,
      unionid: null,
      profile: { nickname: 'Console (development)' },
    });
    if (user.role !== 'admin') await this.users.setRole(user.id, user.id, 'admin');
    const sessionId = newSessionId();
    const now = Date.now();
    await this.staffSessions.create(
      {
        id: sessionId,
        userId: user.id,
        role: 'admin',
        device: 'console (development sign-in)',
        createdAt: now,
        lastSeenAt: now,
        // No WeChat session_key exists for this user.
        sealedSessionKey: this.cipher.encrypt(''),
      },
      // Nobody holds this refresh token: the session ends when it expires or is revoked.
      newRefreshToken(sessionId).hash,
      this.refreshTtlSec,
    );
    return this.grantOf(user.id, sessionId);
  }

  /**
   * The user's role and grant as they stand now (the guard checked the role a
   * moment ago; a change since then is refused rather than recorded).
   */
  private async grantOf(userId: number, sessionId: string): Promise<ConsoleGrant> {
    const current = await this.users.currentGrant(userId);
    if (current === undefined || !(STAFF_ROLES as readonly string[]).includes(current.role)) {
      throw new AppError('FORBIDDEN');
    }
    return { userId, sessionId, ...current };
  }
}
