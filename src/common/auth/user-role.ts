/**
 * The roles a user can hold. They live here, below the domain modules, because
 * the route decorators (`@Roles`) and the session and token payloads name them;
 * the users module stores them.
 */
export const USER_ROLES = ['user', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];
