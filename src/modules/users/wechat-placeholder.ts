/**
 * Since late 2022 WeChat gives every user this nickname and a grey avatar
 * instead of their profile (getUserProfile/getUserInfo no longer tell the
 * real one): they say nothing about the user and must never overwrite a
 * profile the user set.
 */
export const WECHAT_PLACEHOLDER_NICKNAME = '微信用户';

// The grey default avatar, at any size (the last path segment: 0, 46, 64, 96, 132).
const PLACEHOLDER_AVATAR =
  /^https:\/\/thirdwx\.qlogo\.cn\/mmopen\/vi_32\/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg\/\d+$/;

export function isPlaceholderNickname(nickname: string): boolean {
  return nickname.trim() === WECHAT_PLACEHOLDER_NICKNAME;
}

export function isPlaceholderAvatar(url: string): boolean {
  return PLACEHOLDER_AVATAR.test(url);
}
