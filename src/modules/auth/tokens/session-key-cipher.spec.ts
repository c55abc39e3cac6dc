import { SessionKeyCipher } from './session-key-cipher.js';

const OLD = 'old-secret-old-secret-old-secret-0001';
const NEW = 'new-secret-new-secret-new-secret-0002';
const SESSION_KEY = 'tiihtNczf5v6AKRyjwEUhQ==';

describe('SessionKeyCipher', () => {
  it('opens what it sealed, and the sealed text does not show the key', () => {
    const cipher = new SessionKeyCipher(NEW);
    const sealed = cipher.encrypt(SESSION_KEY);
    expect(sealed).not.toContain(SESSION_KEY);
    expect(cipher.decrypt(sealed)).toBe(SESSION_KEY);
  });

  it('opens a key sealed with a previous secret after a rotation, and seals with the new one', () => {
    const sealedBefore = new SessionKeyCipher(OLD).encrypt(SESSION_KEY);
    const rotated = new SessionKeyCipher(NEW, [OLD]);
    expect(rotated.decrypt(sealedBefore)).toBe(SESSION_KEY);
    const sealedAfter = rotated.encrypt(SESSION_KEY);
    expect(new SessionKeyCipher(NEW).decrypt(sealedAfter)).toBe(SESSION_KEY);
    expect(() => new SessionKeyCipher(OLD).decrypt(sealedAfter)).toThrow(/does not open/);
  });

  it('no longer opens a key of a retired secret, nor a tampered one', () => {
    const sealed = new SessionKeyCipher(OLD).encrypt(SESSION_KEY);
    expect(() => new SessionKeyCipher(NEW).decrypt(sealed)).toThrow(/does not open/);
    const [iv, tag, body] = sealed.split('.');
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] ^= 1;
    expect(() =>
      new SessionKeyCipher(OLD).decrypt([iv, tag, flipped.toString('base64url')].join('.')),
    ).toThrow(/does not open/);
  });
});
