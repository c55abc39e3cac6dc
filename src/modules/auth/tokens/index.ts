export { AccessTokens } from './access-tokens.js';
export type { AccessClaims } from './access-tokens.js';
export {
  newSessionId,
  newRefreshToken,
  hashRefreshToken,
  sessionOfRefreshToken,
  RefreshTokenSuccessor,
} from './refresh-tokens.js';
export { SessionKeyCipher } from './session-key-cipher.js';
