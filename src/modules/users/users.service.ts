import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { AppError } from '../../common/errors/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { TwoTierCache, type GetOrSetOptions } from '../../infra/cache/index.js';
import { ContentSecurity } from '../moderation/index.js';
import { Transactions, isDuplicateKey } from '../../infra/transactions/index.js';
import { OutboxWriter } from '../../infra/queue/index.js';
import { roleOf, setRoleGrant } from './admin-grants.js';
import type { UserRole } from '../../common/auth/index.js';
import { User } from './user.entity.js';
import { toUserView, userViewKey, type UserView } from './user.view.js';
import { AvatarChecks } from './avatar-checks.service.js';

const viewKey = userViewKey;

// Writers delete the key on every replica at once (the cache's bus), so the
// TTL only bounds how long an unchanged view is trusted.
const VIEW_CACHE: GetOrSetOptions = {
  ttlMs: 60_000,
  // The API never deletes users: a miss is a bug or a forged id, not worth keeping.
  negativeTtlMs: 0,
  // A signed-in user keeps seeing their profile through database trouble.
  graceMs: 600_000,
  softTimeoutMs: 150,
};

export interface WechatIdentity {
  openid: string;
  unionid: string | null;
  /** From the user's encrypted profile, when the login carried one. */
  profile?: { nickname?: string; avatarUrl?: string };
}

export interface RoleGrant {
  role: UserRole;
  /** When the grant behind the role was made, in ms; null without one. */
  grantedAt: number | null;
}

export interface ProfilePatch {
  nickname?: string;
  avatarUrl?: string;
}

/** Written in the transaction that creates the user (the outbox). */
export const USER_REGISTERED = 'user.registered';

export interface UserRegisteredPayload {
  userId: number;
  openid: string;
}

/**
 * Owns the users table; other modules use this service, never the repository.
 * Views are cached in the shared two-tier cache (GET /users/me is served from
 * L1 without a Redis round trip). Cache loaders and reads right after a write
 * go to the primary: a lagging replica would put the old row back.
 */
@Injectable()
export class UsersService {
  private readonly adminOpenIds: ReadonlySet<string>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly cache: TwoTierCache,
    private readonly security: ContentSecurity,
    private readonly transactions: Transactions,
    private readonly outbox: OutboxWriter,
    private readonly avatarChecks: AvatarChecks,
  ) {
    this.adminOpenIds = new Set(config.adminOpenIds);
  }

  /**
   * The user's role as it stands in the database now (ADMIN_OPENIDS and
   * grants), read on the primary so a grant made a moment ago counts;
   * `undefined` when the user is gone.
   */
  async currentRole(id: number): Promise<UserRole | undefined> {
    return (await this.currentGrant(id))?.role;
  }

  /**
   * The current role and when its grant was made (ms; null without a grant):
   * every grant that changes the role gets a new time, so a role changed and
   * changed back is told from one never changed (the staff console's session
   * ends at either). `undefined` when the user is gone.
   */
  async currentGrant(id: number): Promise<RoleGrant | undefined> {
    const user = await this.onPrimary((m) =>
      m.findOne(User, {
        where: { id },
        select: { id: true, openid: true, grantedRole: true, adminGrantedAt: true },
      }),
    );
    if (!user) return undefined;
    return {
      role: roleOf(user, this.adminOpenIds),
      grantedAt: user.adminGrantedAt?.getTime() ?? null,
    };
  }

  /** The user's view, or 404/40400 when the user no longer exists. */
  async getView(id: number): Promise<UserView> {
    const view = await this.cache.getOrSet(
      viewKey(id),
      () =>
        this.onPrimary(async (m) => {
          const user = await m.findOneBy(User, { id });
          return user ? toUserView(user) : null;
        }),
      VIEW_CACHE,
    );
    if (!view) throw new AppError('NOT_FOUND', 'user not found');
    return view;
  }

  /** The user's openid (WeChat APIs that act for a user need it), or 404/40400. */
  async openidOf(id: number): Promise<string> {
    const user = await this.users.findOne({ where: { id }, select: { id: true, openid: true } });
    if (!user) throw new AppError('NOT_FOUND', 'user not found');
    return user.openid;
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
      const created = await this.transactions.run(async (m) => {
        const user = await m.save(
          m.create(User, {
            openid: identity.openid,
            unionid: identity.unionid,
            role: roleOf({ openid: identity.openid, grantedRole: null }, this.adminOpenIds),
            nickname: identity.profile?.nickname ?? '',
            avatarUrl: identity.profile?.avatarUrl ?? null,
          }),
        );
        const payload: UserRegisteredPayload = { userId: user.id, openid: user.openid };
        await this.outbox.append(m, {
          type: USER_REGISTERED,
          aggregateType: 'user',
          aggregateId: user.id,
          payload,
        });
        if (user.avatarUrl) await this.avatarChecks.checkWithin(m, user.id, user.avatarUrl);
        return user;
      });
      return { user: created, isNew: true };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // The winner's row is on the primary; a replica may not have it yet.
      const winner = await this.onPrimary((m) =>
        m.findOneByOrFail(User, { openid: identity.openid }),
      );
      return { user: await this.refresh(winner, identity), isNew: false };
    }
  }

  /** A new nickname passes WeChat content security first (422 when risky, flagged on review). */
  async updateProfile(id: number, patch: ProfilePatch): Promise<UserView> {
    const changes: Partial<User> = {};
    if (patch.nickname !== undefined) changes.nickname = patch.nickname;
    if (patch.avatarUrl !== undefined) changes.avatarUrl = patch.avatarUrl;
    if (patch.nickname === undefined) return this.write(id, changes);
    const nickname = patch.nickname;
    const decision = await this.security.check('nickname', await this.openidOf(id), nickname);
    if (!decision.flag) return this.write(id, changes);
    // The nickname and its flag commit together: no flagged text goes unseen.
    await this.transactions.run(async (m) => {
      await this.store(m, id, changes);
      await this.security.flag(m, decision, {
        kind: 'nickname',
        refId: id,
        userId: id,
        content: nickname,
      });
    });
    await this.changed(id);
    return this.write(id, {});
  }

  /**
   * An admin gives user `id` a staff role (`user`: takes it away). Staff
   * routes read the role from the primary on each request, so it applies at
   * the user's next request on every replica. 409 when ADMIN_OPENIDS makes
   * the user an admin whatever the grant says.
   */
  async setRole(actorId: number, id: number, role: UserRole): Promise<UserView> {
    const result = await this.transactions.run(async (m) => {
      const user = await m.findOne(User, { where: { id }, select: { id: true, openid: true } });
      if (user && this.adminOpenIds.has(user.openid) && role !== 'admin') {
        throw new AppError(
          'CONFLICT',
          'ADMIN_OPENIDS lists this user: they stay admin until the openid is removed there',
        );
      }
      return setRoleGrant(m, { id }, role === 'user' ? null : role, this.adminOpenIds, actorId);
    });
    if (!result) throw new AppError('NOT_FOUND', 'user not found');
    await this.changed(id);
    return this.write(id, {});
  }

  async setPhone(id: number, phone: string): Promise<UserView> {
    return this.write(id, { phone });
  }

  /** Brings a returning user's WeChat-derived fields up to date. */
  private async refresh(user: User, identity: WechatIdentity): Promise<User> {
    const changes: Partial<User> = {};
    if (identity.unionid && identity.unionid !== user.unionid) changes.unionid = identity.unionid;
    const role = roleOf(user, this.adminOpenIds);
    if (role !== user.role) changes.role = role;
    const { nickname, avatarUrl } = identity.profile ?? {};
    if (nickname !== undefined && nickname !== user.nickname) changes.nickname = nickname;
    if (avatarUrl !== undefined && avatarUrl !== user.avatarUrl) changes.avatarUrl = avatarUrl;
    if (Object.keys(changes).length === 0) return user;
    await this.transactions.run((m) => this.store(m, user.id, changes));
    await this.changed(user.id);
    return Object.assign(user, changes);
  }

  private async write(id: number, changes: Partial<User>): Promise<UserView> {
    if (Object.keys(changes).length > 0) {
      await this.transactions.run((m) => this.store(m, id, changes));
      await this.changed(id);
    }
    const user = await this.onPrimary((m) => m.findOneBy(User, { id }));
    if (!user) throw new AppError('NOT_FOUND', 'user not found');
    return toUserView(user);
  }

  /** Writes `changes`; a new avatar's image check commits with it. */
  private async store(m: EntityManager, id: number, changes: Partial<User>): Promise<void> {
    const result = await m.update(User, { id }, changes);
    if (result.affected === 0) throw new AppError('NOT_FOUND', 'user not found');
    if (typeof changes.avatarUrl === 'string') {
      await this.avatarChecks.checkWithin(m, id, changes.avatarUrl);
    }
  }

  /** Drops the cached view from both tiers on every replica. */
  private changed(id: number): Promise<void> {
    return this.cache.delete(viewKey(id));
  }

  private async onPrimary<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const runner = this.users.manager.connection.createQueryRunner('master');
    try {
      return await work(runner.manager);
    } finally {
      await runner.release();
    }
  }
}
