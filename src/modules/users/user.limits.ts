/**
 * The user's profile fields, sized once for the column, the PUT /users/me
 * validation and the login's WeChat profile (which is cut to fit rather
 * than refused: the user did not type it).
 */
export const NICKNAME_MAX_LENGTH = 32;
/** The nickname column is wider than what is written to it, so the limit can grow without a migration. */
export const NICKNAME_COLUMN_LENGTH = 64;
export const AVATAR_URL_MAX_LENGTH = 512;
