import type { EntityManager } from 'typeorm';
import type { UserRole } from '../../common/auth/index.js';
import { User } from './user.entity.js';

/**
 * The role a user has now: admin while their openid is in ADMIN_OPENIDS or
 * `npm run admin -- grant` made them one. Login and refresh sign it into the
 * token; admin routes read it from the database on each request, so a grant
 * or a revoke applies at the next request without a restart.
 */
export function roleOf(
  user: Pick<User, 'openid' | 'adminGrantedAt'>,
  adminOpenIds: ReadonlySet<string>,
): UserRole {
  return adminOpenIds.has(user.openid) || user.adminGrantedAt !== null ? 'admin' : 'user';
}

/** Whom `npm run admin` names: a user id or an openid. */
export type AdminTarget = { id: number } | { openid: string };

export interface AdminGrantResult {
  userId: number;
  openid: string;
  role: UserRole;
  /** True when ADMIN_OPENIDS names the user, so a revoke holds only until it is removed there. */
  listed: boolean;
}

/**
 * Grants or revokes the admin role in one guarded UPDATE on the primary (the
 * CLI's data source has no replicas). `undefined` when no such user exists:
 * a user appears at their first login.
 */
export async function setAdminGrant(
  manager: EntityManager,
  target: AdminTarget,
  grant: boolean,
  adminOpenIds: ReadonlySet<string>,
): Promise<AdminGrantResult | undefined> {
  const user = await manager.findOneBy(User, target);
  if (!user) return undefined;
  const adminGrantedAt = grant ? (user.adminGrantedAt ?? new Date()) : null;
  const role = roleOf({ openid: user.openid, adminGrantedAt }, adminOpenIds);
  await manager.update(User, { id: user.id }, { adminGrantedAt, role });
  return { userId: user.id, openid: user.openid, role, listed: adminOpenIds.has(user.openid) };
}
