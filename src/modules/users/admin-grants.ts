import type { EntityManager } from 'typeorm';
import { recordAudit } from '../../infra/audit/index.js';
import { locksRows } from '../../infra/database/index.js';
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
 * `manager`, a transaction on the primary, which also takes the audit row
 * (`actorId`: the admin; null for the command line). `undefined` when no
 * such user exists: a user appears at their first login.
 */
export async function setRoleGrant(
  manager: EntityManager,
  target: AdminTarget,
  grantedRole: StaffRole | null,
  adminOpenIds: ReadonlySet<string>,
  actorId: number | null,
): Promise<AdminGrantResult | undefined> {
  // Locked (MySQL/MariaDB; the embedded engine runs one transaction at a
  // time) so the audit's "before" is the role this grant replaced.
  const user = await manager.findOne(User, {
    where: target,
    ...(locksRows(manager) ? { lock: { mode: 'pessimistic_write' as const } } : {}),
  });
  if (!user) return undefined;
  const adminGrantedAt =
    grantedRole === null
      ? null
      : grantedRole === user.grantedRole
        ? (user.adminGrantedAt ?? new Date())
        : new Date();
  const role = roleOf({ openid: user.openid, grantedRole }, adminOpenIds);
  await manager.update(User, { id: user.id }, { adminGrantedAt, grantedRole, role });
  await recordAudit(manager, {
    actorId,
    action: 'user.role',
    target: `user:${user.id}`,
    before: { role: roleOf(user, adminOpenIds), grantedRole: user.grantedRole },
    after: { role, grantedRole },
  });
  return { userId: user.id, openid: user.openid, role, listed: adminOpenIds.has(user.openid) };
}
