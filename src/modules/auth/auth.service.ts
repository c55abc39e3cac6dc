import { Inject, Injectable } from '@nestjs/common';
import type { AuthUser } from '../../common/auth/index.js';
import { AppError, validationError } from '../../common/errors/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import {
  AVATAR_URL_MAX_LENGTH,
  NICKNAME_MAX_LENGTH,
  UsersService,
  isPlaceholderAvatar,
  isPlaceholderNickname,
  type UserView,
} from '../users/index.js';
import { SessionLiveness, SessionStore } from './sessions/index.js';
import {
  AccessTokens,
  RefreshTokenSuccessor,
  SessionKeyCipher,
  hashRefreshToken,
  newRefreshToken,
  newSessionId,
  sessionOfRefreshToken,
} from './tokens/index.js';
import {
  WechatClient,
  WechatDataError,
  decryptUserData,
  verifyRawDataSignature,
} from '../wechat/index.js';
import type { LoginResult, SessionView, TokenPair } from './auth.view.js';
import type { LoginDto } from './login.dto.js';

const HTTPS_URL = /^https:\/\/[^\s]+$/;

/** Cuts to `max` UTF-16 units without splitting a surrogate pair. */
function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  const high = value.charCodeAt(max - 1);
  return value.slice(0, high >= 0xd800 && high <= 0xdbff ? max - 1 : max);
}

@Injectable()
export class AuthService {
  private readonly refreshTtl: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly wechat: WechatClient,
    private readonly users: UsersService,
    private readonly sessions: SessionStore,
    private readonly liveness: SessionLiveness,
    private readonly accessTokens: AccessTokens,
    private readonly cipher: SessionKeyCipher,
    private readonly successor: RefreshTokenSuccessor,
  ) {
    this.refreshTtl = config.jwt.refreshTtl;
  }

  async login(dto: LoginDto): Promise<LoginResult> {
    if ((dto.encryptedData === undefined) !== (dto.iv === undefined)) {
      throw validationError([
        {
          field: dto.iv === undefined ? 'iv' : 'encryptedData',
          message: 'encryptedData and iv go together',
        },
      ]);
    }
    if ((dto.rawData === undefined) !== (dto.signature === undefined)) {
      throw validationError([
        {
          field: dto.signature === undefined ? 'signature' : 'rawData',
          message: 'rawData and signature go together',
        },
      ]);
    }
    const wx = await this.wechat.code2session(dto.code);
    // Everything the client sent is checked before anything is written.
    const profile = this.profileFrom(dto, wx.sessionKey);
    const { user, isNew } = await this.users.upsertByOpenid({
      openid: wx.openid,
      unionid: wx.unionid,
      profile,
    });
    const sessionId = newSessionId();
    const refresh = newRefreshToken(sessionId);
    const now = Date.now();
    await this.sessions.create(
      {
        id: sessionId,
        userId: user.id,
        role: user.role,
        device: dto.device ?? null,
        createdAt: now,
        lastSeenAt: now,
        sealedSessionKey: this.cipher.encrypt(wx.sessionKey),
      },
      refresh.hash,
      this.refreshTtl,
    );
    return {
      ...this.pair({ userId: user.id, sessionId, role: user.role }, refresh.token),
      user: {
        id: user.id,
        nickname: user.nickname,
        avatarUrl: user.avatarUrl,
        phone: user.phone,
        isNew,
      },
    };
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const sessionId = sessionOfRefreshToken(refreshToken);
    if (!sessionId) throw new AppError('UNAUTHORIZED', 'invalid refresh token');
    const next = this.successor.of(sessionId, refreshToken);
    const result = await this.sessions.rotate(
      sessionId,
      hashRefreshToken(refreshToken),
      next.hash,
      this.refreshTtl,
    );
    switch (result.outcome) {
      case 'rotated':
        return this.pair({ userId: result.userId, sessionId, role: result.role }, next.token);
      case 'concurrent':
        throw new AppError('CONFLICT', 'refresh token was just rotated by a concurrent request');
      case 'reused':
        await this.liveness.announceRevoked([sessionId]);
        throw new AppError('SESSION_REVOKED', 'refresh token reused; session revoked');
      case 'revoked':
        throw new AppError('SESSION_REVOKED');
      default:
        throw new AppError('UNAUTHORIZED', 'invalid refresh token');
    }
  }

  async logout(user: AuthUser): Promise<void> {
    await this.sessions.revoke(user.sessionId, user.userId, this.refreshTtl);
    await this.liveness.announceRevoked([user.sessionId]);
  }

  async logoutAll(user: AuthUser): Promise<void> {
    const ids = await this.sessions.revokeAll(user.userId, this.refreshTtl);
    await this.liveness.announceRevoked([...new Set([...ids, user.sessionId])]);
  }

  async listSessions(user: AuthUser): Promise<SessionView[]> {
    const records = await this.sessions.list(user.userId);
    return records
      .sort((a, b) => b.lastSeenAt - a.lastSeenAt)
      .map((s) => ({
        id: s.id,
        device: s.device,
        createdAt: new Date(s.createdAt).toISOString(),
        lastSeenAt: new Date(s.lastSeenAt).toISOString(),
        current: s.id === user.sessionId,
      }));
  }

  async bindPhone(user: AuthUser, code: string): Promise<UserView> {
    // With the openid WeChat also checks the code was issued to this user.
    const phone = await this.wechat.phoneNumberByCode(code, await this.users.openidOf(user.userId));
    return this.users.setPhone(user.userId, phone.phoneNumber);
  }

  private pair(claims: AuthUser, refreshToken: string): TokenPair {
    return {
      accessToken: this.accessTokens.sign(claims),
      accessTokenExpiresIn: this.accessTokens.ttlSec,
      refreshToken,
      refreshTokenExpiresIn: this.refreshTtl,
    };
  }

  /** Nickname and avatar from the encrypted profile, after checking it is WeChat's. */
  private profileFrom(
    dto: LoginDto,
    sessionKey: string,
  ): { nickname?: string; avatarUrl?: string } | undefined {
    if (
      dto.rawData !== undefined &&
      dto.signature !== undefined &&
      !verifyRawDataSignature(dto.rawData, dto.signature, sessionKey)
    ) {
      throw validationError([{ field: 'signature', message: 'rawData signature does not match' }]);
    }
    if (dto.encryptedData === undefined || dto.iv === undefined) return undefined;
    let data: Record<string, unknown>;
    try {
      data = decryptUserData(dto.encryptedData, dto.iv, sessionKey, this.wechat.appId);
    } catch (err) {
      if (err instanceof WechatDataError) {
        throw validationError([{ field: 'encryptedData', message: err.message }]);
      }
      throw err;
    }
    // WeChat's placeholders ("微信用户", the grey avatar) are not a profile:
    // they never overwrite what the user set (PUT /users/me) nor fill a new one.
    const profile: { nickname?: string; avatarUrl?: string } = {};
    const { nickName, avatarUrl } = data;
    if (typeof nickName === 'string' && nickName.length > 0 && !isPlaceholderNickname(nickName)) {
      profile.nickname = truncate(nickName, NICKNAME_MAX_LENGTH);
    }
    if (
      typeof avatarUrl === 'string' &&
      HTTPS_URL.test(avatarUrl) &&
      !isPlaceholderAvatar(avatarUrl)
    ) {
      profile.avatarUrl = avatarUrl.slice(0, AVATAR_URL_MAX_LENGTH);
    }
    return profile;
  }
}
