export { UsersModule } from './users.module.js';
export { User } from './user.entity.js';
export type { UserRole } from './user.entity.js';
