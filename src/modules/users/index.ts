export { UsersModule } from './users.module.js';
export { UsersService, USER_REGISTERED } from './users.service.js';
export type { WechatIdentity, ProfilePatch, UserRegisteredPayload } from './users.service.js';
export { User } from './user.entity.js';
export { setAdminGrant, type AdminGrantResult, type AdminTarget } from './admin-grants.js';
export type { UserRole } from '../../common/auth/index.js';
export { userView, type UserView } from './user.view.js';
export { isPlaceholderAvatar, isPlaceholderNickname } from './wechat-placeholder.js';
export { AVATAR_URL_MAX_LENGTH, NICKNAME_MAX_LENGTH } from './user.limits.js';
