import {
  RefreshTokenSuccessor,
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

  it('have one successor per token and secret, which only the secret computes', () => {
    const sid = newSessionId();
    const { token } = newRefreshToken(sid);
    const successor = new RefreshTokenSuccessor('s'.repeat(32));
    const next = successor.of(sid, token);
    expect(sessionOfRefreshToken(next.token)).toBe(sid);
    expect(next.hash).toBe(hashRefreshToken(next.token));
    expect(next.token).not.toBe(token);
    // A repeat computes the same successor; another token or secret does not.
    expect(new RefreshTokenSuccessor('s'.repeat(32)).of(sid, token)).toEqual(next);
    expect(successor.of(sid, newRefreshToken(sid).token).token).not.toBe(next.token);
    expect(new RefreshTokenSuccessor('t'.repeat(32)).of(sid, token).token).not.toBe(next.token);
    // The chain goes on: the successor's successor is new again.
    expect(successor.of(sid, next.token).token).not.toBe(next.token);
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
