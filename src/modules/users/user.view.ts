import { z } from 'zod';
import { apiView, isoTime, rowId } from '../../common/http/index.js';
import { USER_ROLES } from '../../common/auth/index.js';
import type { User } from './user.entity.js';

/** The user as GET /users/me shows it (docs/http-api.md). */
export const userView = apiView(
  'UserView',
  z.strictObject({
    id: rowId(),
    nickname: z.string().meta({ example: 'Xiao Ming' }),
    avatarUrl: z.string().nullable(),
    phone: z.string().nullable().meta({ example: '13800138000' }),
    role: z.enum(USER_ROLES),
    createdAt: isoTime(),
  }),
);
export type UserView = z.infer<typeof userView>;

/** The cache key of a user's view (the users service and the avatar checks drop it). */
export const userViewKey = (id: number) => `user:${id}`;

export function toUserView(user: User): UserView {
  return {
    id: user.id,
    nickname: user.nickname,
    avatarUrl: user.avatarUrl,
    phone: user.phone,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
  };
}
