import type { EntityManager } from 'typeorm';
import type { StaffRole, UserRole } from '../../common/auth/index.js';
import { User } from './user.entity.js';

/**
 * The role a user has now: admin while their openid is in ADMIN_OPENIDS,
 * otherwise the staff role granted to them (`npm run admin -- grant`, PUT
 * /admin/users/:id/role), otherwise `user`. Login and refresh sign it into
 * the token; staff routes read it from the database on each request, so a
 * grant or a removal applies at the next request on every replica, without
 * a restart.
 */
export function roleOf(
  user: Pick<User, 'openid' | 'grantedRole'>,
  adminOpenIds: ReadonlySet<string>,
): UserRole {
  return adminOpenIds.has(user.openid) ? 'admin' : (user.grantedRole ?? 'user');
}

/** Whom `npm run admin` names: a user id or an openid. */
export type AdminTarget = { id: number } | { openid: string };

export interface AdminGrantResult {
  userId: number;
  openid: string;
  role: UserRole;
  /** True when ADMIN_OPENIDS names the user, so a removal holds only until it is removed there. */
  listed: boolean;
}

/**
 * Grants a staff role (null: removes the grant) in one UPDATE through
 * `manager` (the CLI's data source has no replicas; the route passes the
 * primary). `undefined` when no such user exists: a user appears at their
 * first login.
 */
export async function setRoleGrant(
  manager: EntityManager,
  target: AdminTarget,
  grantedRole: StaffRole | null,
  adminOpenIds: ReadonlySet<string>,
): Promise<AdminGrantResult | undefined> {
  const user = await manager.findOneBy(User, target);
  if (!user) return undefined;
  const adminGrantedAt =
    grantedRole === null
      ? null
      : grantedRole === user.grantedRole
        ? (user.adminGrantedAt ?? new Date())
        : new Date();
  const role = roleOf({ openid: user.openid, grantedRole }, adminOpenIds);
  await manager.update(User, { id: user.id }, { adminGrantedAt, grantedRole, role });
  return { userId: user.id, openid: user.openid, role, listed: adminOpenIds.has(user.openid) };
}
