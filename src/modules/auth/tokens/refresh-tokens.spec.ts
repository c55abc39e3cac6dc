import {
  hashRefreshToken,
  newRefreshToken,
  newSessionId,
  sessionOfRefreshToken,
} from './refresh-tokens.js';
import { SessionKeyCipher } from './session-key-cipher.js';

describe('refresh tokens', () => {
  it('carry their session id and are stored only as a hash', () => {
    const sid = newSessionId();
    const { token, hash } = newRefreshToken(sid);
    expect(sessionOfRefreshToken(token)).toBe(sid);
    expect(hash).toBe(hashRefreshToken(token));
    expect(hash).not.toContain(token.split('.')[1]);
    expect(newRefreshToken(sid).token).not.toBe(token);
  });

  it.each([
    '',
    'nodot',
    'short.abc',
    `${'a'.repeat(22)}.${'b'.repeat(10)}`,
    `bad sid!!!!!!!!!!!!!!!.${'b'.repeat(43)}`,
  ])('rejects the malformed token %j', (token) => {
    expect(sessionOfRefreshToken(token)).toBeUndefined();
  });
});

describe('SessionKeyCipher', () => {
  it('round-trips and never stores the key in clear', () => {
    const cipher = new SessionKeyCipher('s'.repeat(32));
    const sealed = cipher.encrypt('HyVFkGl5F5OQWJZZaNzBBg==');
    expect(sealed).not.toContain('HyVFkGl5F5OQWJZZaNzBBg');
    expect(cipher.decrypt(sealed)).toBe('HyVFkGl5F5OQWJZZaNzBBg==');
    expect(cipher.encrypt('HyVFkGl5F5OQWJZZaNzBBg==')).not.toBe(sealed);
  });

  it('refuses a sealed key made with another secret', () => {
    const sealed = new SessionKeyCipher('a'.repeat(32)).encrypt('key');
    expect(() => new SessionKeyCipher('b'.repeat(32)).decrypt(sealed)).toThrow();
  });
});
