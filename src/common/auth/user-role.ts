/**
 * The roles a user can hold. They live here, below the domain modules, because
 * the route decorators (`@Roles`) and the session and token payloads name them;
 * the users module stores them.
 */
export const USER_ROLES = ['user', 'support', 'operator', 'finance', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];
/**
 * The staff roles of the back office (docs/http-api.md, "Staff"): `support`
 * reads and decides after-sales, `operator` runs products, flash sales,
 * shipping and cancellations, `finance` refunds and exports, `admin` does
 * everything.
 */
export const STAFF_ROLES = ['support', 'operator', 'finance', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];
