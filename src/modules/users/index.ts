export { UsersModule } from './users.module.js';
export { UsersService, USER_REGISTERED } from './users.service.js';
export type {
  WechatIdentity,
  ProfilePatch,
  RoleGrant,
  UserRegisteredPayload,
} from './users.service.js';
export { User } from './user.entity.js';
export { lockUserRow } from './user-lock.js';
export { MediaCheck } from './media-check.entity.js';
export { setRoleGrant, type AdminGrantResult, type AdminTarget } from './admin-grants.js';
export { STAFF_ROLES, USER_ROLES, type StaffRole, type UserRole } from '../../common/auth/index.js';
export { userView, type UserView } from './user.view.js';
export { isPlaceholderAvatar, isPlaceholderNickname } from './wechat-placeholder.js';
export { AVATAR_URL_MAX_LENGTH, NICKNAME_MAX_LENGTH } from './user.limits.js';
export { Address } from './address.entity.js';
export { AddressesService } from './addresses.service.js';
export { AddressFieldsDto, MAX_ADDRESSES } from './address.dto.js';
export { deliveryAddressView, type DeliveryAddress } from './address.view.js';
