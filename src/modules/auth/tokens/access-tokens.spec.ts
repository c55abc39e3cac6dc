import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AppError } from '../../../common/errors/index.js';
import { AccessTokens } from './access-tokens.js';

const SECRET = 'unit-secret-unit-secret-unit-secret-42';
const tokens = new AccessTokens(SECRET, 900);
const key = createSecretKey(Buffer.from(SECRET));

function reasonOf(token: string): string {
  try {
    tokens.verify(token);
    return 'ok';
  } catch (err) {
    return err instanceof AppError ? err.reason : 'other';
  }
}

describe('AccessTokens', () => {
  it('signs HS256 tokens with sub, sid, role and the configured TTL, and verifies them', () => {
    const token = tokens.sign({ userId: 7, sessionId: 's1', role: 'admin' });
    const decoded = jwt.decode(token, { complete: true })!;
    expect(decoded.header.alg).toBe('HS256');
    const payload = decoded.payload as jwt.JwtPayload;
    expect(payload).toMatchObject({ sub: '7', sid: 's1', role: 'admin' });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(tokens.verify(token)).toEqual({ userId: 7, sessionId: 's1', role: 'admin' });
  });

  it('tells an expired token (40101) from an invalid one (40100)', () => {
    const expired = jwt.sign({ sid: 's', role: 'user', sub: '1', exp: 1000 }, key, {
      algorithm: 'HS256',
    });
    expect(reasonOf(expired)).toBe('TOKEN_EXPIRED');
  });

  it.each([
    ['alg none', `${b64({ alg: 'none' })}.${b64({ sid: 's', role: 'user', sub: '1' })}.`],
    ['HS384', jwt.sign({ sid: 's', role: 'user', sub: '1' }, key, { algorithm: 'HS384' })],
    ['another secret', jwt.sign({ sid: 's', role: 'user', sub: '1' }, 'x'.repeat(40))],
    ['no sid', jwt.sign({ role: 'user', sub: '1' }, key, { algorithm: 'HS256' })],
    ['empty sid', jwt.sign({ sid: '', role: 'user', sub: '1' }, key, { algorithm: 'HS256' })],
    ['unknown role', jwt.sign({ sid: 's', role: 'root', sub: '1' }, key, { algorithm: 'HS256' })],
    [
      'non-numeric sub',
      jwt.sign({ sid: 's', role: 'user', sub: 'abc' }, key, { algorithm: 'HS256' }),
    ],
    ['no sub', jwt.sign({ sid: 's', role: 'user' }, key, { algorithm: 'HS256' })],
    ['garbage', 'abc.def.ghi'],
    ['empty', ''],
  ])('refuses %s with 40100', (_label, token) => {
    expect(reasonOf(token)).toBe('UNAUTHORIZED');
  });

  it('refuses a payload changed after signing', () => {
    const [h, , s] = tokens.sign({ userId: 7, sessionId: 's1', role: 'user' }).split('.');
    const forged = `${h}.${b64({ sub: '7', sid: 's1', role: 'admin', exp: 9e9 })}.${s}`;
    expect(reasonOf(forged)).toBe('UNAUTHORIZED');
  });
});

function b64(o: object): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

describe('AccessTokens verified-token memory', () => {
  afterEach(() => vi.useRealTimers());

  it('still refuses a token with 40101 once it expires after a first successful verify', () => {
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    const short = new AccessTokens(SECRET, 60);
    const token = short.sign({ userId: 3, sessionId: 's3', role: 'user' });
    expect(short.verify(token)).toEqual({ userId: 3, sessionId: 's3', role: 'user' });
    expect(short.verify(token).userId).toBe(3);
    vi.setSystemTime(new Date('2030-01-01T00:01:00Z'));
    expect(() => short.verify(token)).toThrow(expect.objectContaining({ reason: 'TOKEN_EXPIRED' }));
    expect(() => short.verify(token)).toThrow(expect.objectContaining({ reason: 'TOKEN_EXPIRED' }));
  });
});

describe('AccessTokens across a JWT_SECRET rotation', () => {
  const OLD = 'old-secret-old-secret-old-secret-0001';
  const NEW = 'new-secret-new-secret-new-secret-0002';
  const claims = { userId: 9, sessionId: 's9', role: 'user' as const };

  it('verifies tokens of a previous secret and signs new ones with the current secret only', () => {
    const before = new AccessTokens(OLD, 900).sign(claims);
    const rotated = new AccessTokens(NEW, 900, [OLD]);
    expect(rotated.verify(before)).toEqual(claims);
    const after = rotated.sign(claims);
    expect(new AccessTokens(NEW, 900).verify(after)).toEqual(claims);
    expect(() => new AccessTokens(OLD, 900).verify(after)).toThrow(
      expect.objectContaining({ reason: 'UNAUTHORIZED' }),
    );
  });

  it('refuses tokens of a secret once it is retired', () => {
    const before = new AccessTokens(OLD, 900).sign(claims);
    expect(() => new AccessTokens(NEW, 900).verify(before)).toThrow(
      expect.objectContaining({ reason: 'UNAUTHORIZED' }),
    );
  });

  it('answers 40101 for an expired token of a previous secret, 40100 for a foreign one', () => {
    const expired = jwt.sign({ sid: 's', role: 'user', sub: '1', exp: 1000 }, OLD, {
      algorithm: 'HS256',
    });
    const rotated = new AccessTokens(NEW, 900, [OLD]);
    expect(() => rotated.verify(expired)).toThrow(
      expect.objectContaining({ reason: 'TOKEN_EXPIRED' }),
    );
    const foreign = jwt.sign({ sid: 's', role: 'user', sub: '1' }, 'f'.repeat(40));
    expect(() => rotated.verify(foreign)).toThrow(
      expect.objectContaining({ reason: 'UNAUTHORIZED' }),
    );
  });
});
