import type { User, UserRole } from './user.entity.js';

/** The user as GET /users/me shows it (API.md). */
export interface UserView {
  id: number;
  nickname: string;
  avatarUrl: string | null;
  phone: string | null;
  role: UserRole;
  createdAt: string;
}

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
