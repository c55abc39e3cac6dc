import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { dropRedisKeys, TEST_REDIS_URL, testRedisPrefix } from '../../../../test/helpers/env.js';
import { newRefreshToken, newSessionId } from '../tokens/index.js';
import { MemorySessionStore } from './memory-session.store.js';
import { RedisSessionStore } from './redis-session.store.js';
import type { SessionStore, SessionStoreOptions } from './session-store.js';

const TTL_SEC = 600;
const WINDOW_MS = 150;

const prefix = testRedisPrefix();
let redis: Redis;

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix, lazyConnect: true });
  await redis.connect();
});
afterAll(async () => {
  await dropRedisKeys(prefix);
  redis.disconnect();
});

const stores: [string, (options: SessionStoreOptions) => SessionStore][] = [
  ['MemorySessionStore', (options) => new MemorySessionStore(options)],
  ['RedisSessionStore (real Redis)', (options) => new RedisSessionStore(redis, options)],
];

describe.each(stores)('%s: refresh-token rotation', (_name, make) => {
  let store: SessionStore;
  let userId = 1000;

  beforeEach(() => {
    store = make({ refreshRepeatWindowMs: WINDOW_MS });
  });

  async function newSession() {
    const sid = newSessionId();
    const first = newRefreshToken(sid);
    userId += 1;
    const now = Date.now();
    await store.create(
      {
        id: sid,
        userId,
        role: 'user',
        device: null,
        createdAt: now,
        lastSeenAt: now,
        sealedSessionKey: 'sealed',
      },
      first.hash,
      TTL_SEC,
    );
    return { sid, first, userId };
  }

  it('rotates the current token and tells who the session belongs to', async () => {
    const s = await newSession();
    const next = newRefreshToken(s.sid);
    await expect(store.rotate(s.sid, s.first.hash, next.hash, TTL_SEC)).resolves.toEqual({
      outcome: 'rotated',
      userId: s.userId,
      role: 'user',
    });
  });

  it('rotates once for many concurrent or repeated rotations to one successor', async () => {
    const s = await newSession();
    const next = newRefreshToken(s.sid);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => store.rotate(s.sid, s.first.hash, next.hash, TTL_SEC)),
    );
    expect(new Set(results.map((r) => JSON.stringify(r)))).toEqual(
      new Set([JSON.stringify({ outcome: 'rotated', userId: s.userId, role: 'user' })]),
    );
    // A retry a moment later (its answer was lost) is the same rotation again.
    await sleep(WINDOW_MS / 3);
    await expect(store.rotate(s.sid, s.first.hash, next.hash, TTL_SEC)).resolves.toMatchObject({
      outcome: 'rotated',
    });
    // The successor is current: it rotates, and from then on the first token is spent.
    const after = newRefreshToken(s.sid);
    expect((await store.rotate(s.sid, next.hash, after.hash, TTL_SEC)).outcome).toBe('rotated');
    const reuse = await store.rotate(s.sid, s.first.hash, next.hash, TTL_SEC);
    expect(reuse.outcome).toBe('reused');
  });

  it('answers "concurrent" to a repeat with another successor, and revokes nothing', async () => {
    const s = await newSession();
    const next = newRefreshToken(s.sid);
    const other = newRefreshToken(s.sid);
    await store.rotate(s.sid, s.first.hash, next.hash, TTL_SEC);
    const raced = await store.rotate(s.sid, s.first.hash, other.hash, TTL_SEC);
    expect(raced).toEqual({ outcome: 'concurrent' });
    await expect(store.touch(s.sid, Date.now())).resolves.toBe('live');
    // Nothing moved: the first successor is still the current token.
    const again = await store.rotate(s.sid, next.hash, newRefreshToken(s.sid).hash, TTL_SEC);
    expect(again.outcome).toBe('rotated');
  });

  it('revokes the session when the spent token comes back after the window', async () => {
    const s = await newSession();
    const next = newRefreshToken(s.sid);
    await store.rotate(s.sid, s.first.hash, next.hash, TTL_SEC);
    await sleep(WINDOW_MS + 50);
    // Even as a repeat (the same successor): past the window it is reuse.
    const reuse = await store.rotate(s.sid, s.first.hash, next.hash, TTL_SEC);
    expect(reuse).toEqual({ outcome: 'reused', userId: s.userId });
    await expect(store.touch(s.sid, Date.now())).resolves.toBe('revoked');
    // The legitimate holder's newer token dies with the session.
    const newer = await store.rotate(s.sid, next.hash, newRefreshToken(s.sid).hash, TTL_SEC);
    expect(newer.outcome).toBe('revoked');
  });

  it('gives no grace to a token spent before the last rotation, even within the window', async () => {
    const s = await newSession();
    const second = newRefreshToken(s.sid);
    const third = newRefreshToken(s.sid);
    await store.rotate(s.sid, s.first.hash, second.hash, TTL_SEC);
    await store.rotate(s.sid, second.hash, third.hash, TTL_SEC);
    const reuse = await store.rotate(s.sid, s.first.hash, newRefreshToken(s.sid).hash, TTL_SEC);
    expect(reuse.outcome).toBe('reused');
    await expect(store.touch(s.sid, Date.now())).resolves.toBe('revoked');
  });

  it('answers "unknown" for a token never issued and leaves the session alone', async () => {
    const s = await newSession();
    const guess = newRefreshToken(s.sid);
    await expect(
      store.rotate(s.sid, guess.hash, newRefreshToken(s.sid).hash, TTL_SEC),
    ).resolves.toEqual({ outcome: 'unknown' });
    const real = await store.rotate(s.sid, s.first.hash, newRefreshToken(s.sid).hash, TTL_SEC);
    expect(real.outcome).toBe('rotated');
  });

  it('tells a revoked session from one whose data is gone', async () => {
    const s = await newSession();
    await store.revoke(s.sid, s.userId, TTL_SEC);
    await expect(store.touch(s.sid, Date.now())).resolves.toBe('revoked');
    // Never stored (or lost with the store's data): no tombstone either.
    await expect(store.touch(newSessionId(), Date.now())).resolves.toBe('gone');
  });

  it("lists the user's sessions without the sealed session_key", async () => {
    const s = await newSession();
    const listed = await store.list(s.userId);
    expect(listed).toEqual([
      expect.objectContaining({ id: s.sid, userId: s.userId, device: null }),
    ]);
    expect(listed[0]).not.toHaveProperty('sealedSessionKey');
    expect(JSON.stringify(listed)).not.toContain('sealed');
  });

  it('uses a 10 s window by default', async () => {
    store = make({});
    const s = await newSession();
    const next = newRefreshToken(s.sid);
    await store.rotate(s.sid, s.first.hash, next.hash, TTL_SEC);
    // Past the short window of the other tests, and past a 503's Retry-After.
    await sleep(2_500);
    const late = await store.rotate(s.sid, s.first.hash, next.hash, TTL_SEC);
    expect(late.outcome).toBe('rotated');
  });
});

describe('RedisSessionStore with replicaAckMs (Sentinel mode)', () => {
  const record = (userId: number) => {
    const now = Date.now();
    return {
      id: newSessionId(),
      userId,
      role: 'user' as const,
      device: null,
      createdAt: now,
      lastSeenAt: now,
      sealedSessionKey: 'sealed',
    };
  };

  it('answers 503 with Retry-After when no replica acknowledges the write in time', async () => {
    // The test Redis has no replica: WAIT 1 answers 0 after the timeout.
    const store = new RedisSessionStore(redis, { replicaAckMs: 20 });
    const s = record(9001);
    const err = await store.create(s, newRefreshToken(s.id).hash, TTL_SEC).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'UNAVAILABLE', headers: { 'Retry-After': '2' } });
  });

  it('lets a rotation that answered 503 be retried with the same successor', async () => {
    const waiting = new RedisSessionStore(redis, { replicaAckMs: 20 });
    const s = record(9003);
    const first = newRefreshToken(s.id);
    await new RedisSessionStore(redis, {}).create(s, first.hash, TTL_SEC);
    const next = newRefreshToken(s.id);
    // The rotation is written, then no replica acknowledges it: 503.
    const err = await waiting.rotate(s.id, first.hash, next.hash, TTL_SEC).catch((e) => e);
    expect(err).toMatchObject({ reason: 'UNAVAILABLE' });
    // The client's retry (here once a replica has it) is the same rotation.
    await expect(
      new RedisSessionStore(redis, {}).rotate(s.id, first.hash, next.hash, TTL_SEC),
    ).resolves.toEqual({ outcome: 'rotated', userId: 9003, role: 'user' });
  });

  it('does not wait without replicaAckMs (one server, Redis Cluster)', async () => {
    const store = new RedisSessionStore(redis, {});
    const s = record(9002);
    await store.create(s, newRefreshToken(s.id).hash, TTL_SEC);
    expect(await store.touch(s.id, Date.now())).toBe('live');
  });
});
