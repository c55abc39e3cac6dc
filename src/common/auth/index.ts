export { Authenticated, Roles, CurrentUser, AUTH_REQUIRED, AUTH_ROLES } from './auth.decorators.js';
export type { AuthUser } from './auth.decorators.js';
export { USER_ROLES, type UserRole } from './user-role.js';
