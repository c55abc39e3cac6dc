import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, type Repository } from 'typeorm';
import { AppError } from '../../common/errors/index.js';
import { MessageBus } from '../../infra/bus/index.js';
import { UserCache } from './user-cache.js';
import { User, type UserRole } from './user.entity.js';
import { toUserView, type UserView } from './user-view.js';

const CHANGED_CHANNEL = 'users:changed';
// The bus drops changed users at once; the TTL only bounds a lost message.
const CACHE_TTL_MS = 5_000;
const CACHE_MAX_ENTRIES = 50_000;

export interface WechatIdentity {
  openid: string;
  unionid: string | null;
  role: UserRole;
  /** From the user's encrypted profile, when the login carried one. */
  profile?: { nickname?: string; avatarUrl?: string };
}

export interface ProfilePatch {
  nickname?: string;
  avatarUrl?: string;
}

function isDuplicateKey(err: unknown): boolean {
  if (!(err instanceof QueryFailedError)) return false;
  const driver = err.driverError as { code?: string; message?: string } | undefined;
  return driver?.code === 'ER_DUP_ENTRY' || /UNIQUE constraint failed/.test(driver?.message ?? '');
}

/** Owns the users table; other modules use this service, never the repository. */
@Injectable()
export class UsersService implements OnModuleInit {
  private readonly cache = new UserCache(CACHE_TTL_MS, CACHE_MAX_ENTRIES);

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @Inject(MessageBus) private readonly bus: MessageBus,
  ) {}

  onModuleInit(): void {
    this.bus.subscribe(CHANGED_CHANNEL, (message) => this.cache.delete(Number(message)));
  }

  /** The user's view, or 404/40400 when the user no longer exists. */
  async getView(id: number): Promise<UserView> {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached;
    const user = await this.users.findOneBy({ id });
    if (!user) throw new AppError('NOT_FOUND', 'user not found');
    const view = toUserView(user);
    this.cache.set(id, view);
    return view;
  }

  /**
   * Finds or creates the user of a WeChat identity. Race-safe: when two first
   * logins of one openid run at once, the unique index lets one insert win and
   * the other reads the winner's row.
   */
  async upsertByOpenid(identity: WechatIdentity): Promise<{ user: User; isNew: boolean }> {
    const existing = await this.users.findOneBy({ openid: identity.openid });
    if (existing) return { user: await this.refresh(existing, identity), isNew: false };
    try {
      const created = await this.users.save(
        this.users.create({
          openid: identity.openid,
          unionid: identity.unionid,
          role: identity.role,
          nickname: identity.profile?.nickname ?? '',
          avatarUrl: identity.profile?.avatarUrl ?? null,
        }),
      );
      return { user: created, isNew: true };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const winner = await this.users.findOneByOrFail({ openid: identity.openid });
      return { user: await this.refresh(winner, identity), isNew: false };
    }
  }

  async updateProfile(id: number, patch: ProfilePatch): Promise<UserView> {
    const changes: Partial<User> = {};
    if (patch.nickname !== undefined) changes.nickname = patch.nickname;
    if (patch.avatarUrl !== undefined) changes.avatarUrl = patch.avatarUrl;
    return this.write(id, changes);
  }

  async setPhone(id: number, phone: string): Promise<UserView> {
    return this.write(id, { phone });
  }

  /** Brings a returning user's WeChat-derived fields up to date. */
  private async refresh(user: User, identity: WechatIdentity): Promise<User> {
    const changes: Partial<User> = {};
    if (identity.unionid && identity.unionid !== user.unionid) changes.unionid = identity.unionid;
    if (identity.role !== user.role) changes.role = identity.role;
    const { nickname, avatarUrl } = identity.profile ?? {};
    if (nickname !== undefined && nickname !== user.nickname) changes.nickname = nickname;
    if (avatarUrl !== undefined && avatarUrl !== user.avatarUrl) changes.avatarUrl = avatarUrl;
    if (Object.keys(changes).length === 0) return user;
    await this.users.update({ id: user.id }, changes);
    await this.changed(user.id);
    return Object.assign(user, changes);
  }

  private async write(id: number, changes: Partial<User>): Promise<UserView> {
    if (Object.keys(changes).length > 0) {
      const result = await this.users.update({ id }, changes);
      if (result.affected === 0) throw new AppError('NOT_FOUND', 'user not found');
      await this.changed(id);
    }
    const user = await this.users.findOneBy({ id });
    if (!user) throw new AppError('NOT_FOUND', 'user not found');
    return toUserView(user);
  }

  private async changed(id: number): Promise<void> {
    this.cache.delete(id);
    await this.bus.publish(CHANGED_CHANNEL, String(id));
  }
}
