import { z } from 'zod';
import { apiView, isoTime, rowId } from '../../common/http/index.js';

export const tokenPair = apiView(
  'TokenPair',
  z.strictObject({
    accessToken: z.string().meta({ description: 'JWT for `Authorization: Bearer …`' }),
    accessTokenExpiresIn: z.int().min(1).meta({ description: 'seconds', example: 900 }),
    refreshToken: z.string().meta({ description: 'opaque; spent by POST /auth/refresh' }),
    refreshTokenExpiresIn: z.int().min(1).meta({ description: 'seconds', example: 2592000 }),
  }),
);
export type TokenPair = z.infer<typeof tokenPair>;

export const loginResult = apiView(
  'LoginResult',
  tokenPair.extend({
    user: z.strictObject({
      id: rowId(),
      nickname: z.string(),
      avatarUrl: z.string().nullable(),
      phone: z.string().nullable(),
      isNew: z.boolean().meta({ description: 'true on the first login of this openid' }),
    }),
  }),
);
export type LoginResult = z.infer<typeof loginResult>;

export const sessionView = apiView(
  'SessionView',
  z.strictObject({
    id: z.string(),
    device: z.string().nullable(),
    createdAt: isoTime(),
    lastSeenAt: isoTime(),
    current: z.boolean().meta({ description: 'the session of this request' }),
  }),
);
export type SessionView = z.infer<typeof sessionView>;
