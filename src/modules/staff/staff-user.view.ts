import { z } from 'zod';
import { apiView, isoTime, pageOf, rowId } from '../../common/http/index.js';
import { USER_ROLES } from '../users/index.js';

/** A user as the back office lists them. */
export const staffUserView = apiView(
  'StaffUserView',
  z.strictObject({
    id: rowId(),
    nickname: z.string(),
    avatarUrl: z.string().nullable(),
    phone: z.string().nullable().meta({
      example: '*******8000',
      description: 'masked but for the last 4 digits, except for admin',
    }),
    role: z.enum(USER_ROLES),
    createdAt: isoTime(),
  }),
);
export type StaffUserView = z.infer<typeof staffUserView>;

export const staffUserPage = pageOf('StaffUserPage', staffUserView);
export type StaffUserPage = z.infer<typeof staffUserPage>;

/** `13800138000` → `*******8000`: everything but the last 4 characters hidden (a short number keeps at least 4 hidden). */
export function maskPhone(phone: string): string {
  const shown = Math.min(4, Math.max(0, phone.length - 4));
  return '*'.repeat(phone.length - shown) + phone.slice(phone.length - shown);
}
