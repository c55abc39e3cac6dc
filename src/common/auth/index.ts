export { Authenticated, Roles, CurrentUser, AUTH_REQUIRED, AUTH_ROLES } from './auth.decorators.js';
export type { AuthUser } from './auth.decorators.js';
export { STAFF_ROLES, USER_ROLES, type StaffRole, type UserRole } from './user-role.js';
