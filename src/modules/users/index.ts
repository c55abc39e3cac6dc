export { UsersModule } from './users.module.js';
export { UsersService } from './users.service.js';
export type { WechatIdentity, ProfilePatch } from './users.service.js';
export { User } from './user.entity.js';
export type { UserRole } from './user.entity.js';
export { userView, type UserView } from './user-view.js';
export { isPlaceholderAvatar, isPlaceholderNickname } from './wechat-placeholder.js';
