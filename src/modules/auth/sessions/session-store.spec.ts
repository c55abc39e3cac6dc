import { Redis } from 'ioredis';
import { dropRedisKeys, TEST_REDIS_URL, testRedisPrefix } from '../../../../test/helpers/env.js';
import { newRefreshToken, newSessionId } from '../tokens/index.js';
import { MemorySessionStore } from './memory-session.store.js';
import { RedisSessionStore } from './redis-session.store.js';
import type { SessionStore, SessionStoreOptions } from './session-store.js';

const TTL_SEC = 600;
const WINDOW_MS = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    store = make({ concurrentRefreshWindowMs: WINDOW_MS });
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

  it('lets one of many concurrent rotations win and answers the rest "concurrent"', async () => {
    const s = await newSession();
    const nexts = Array.from({ length: 10 }, () => newRefreshToken(s.sid));
    const results = await Promise.all(
      nexts.map((n) => store.rotate(s.sid, s.first.hash, n.hash, TTL_SEC)),
    );
    const outcomes = results.map((r) => r.outcome).sort();
    expect(outcomes).toEqual([...Array<string>(9).fill('concurrent'), 'rotated']);
    await expect(store.touch(s.sid, Date.now())).resolves.toBe('live');
    // The winner's new token is the current one: it rotates again.
    const winner = nexts[results.findIndex((r) => r.outcome === 'rotated')];
    const after = newRefreshToken(s.sid);
    const again = await store.rotate(s.sid, winner.hash, after.hash, TTL_SEC);
    expect(again.outcome).toBe('rotated');
  });

  it('revokes the session when the spent token comes back after the window', async () => {
    const s = await newSession();
    const next = newRefreshToken(s.sid);
    await store.rotate(s.sid, s.first.hash, next.hash, TTL_SEC);
    await sleep(WINDOW_MS + 50);
    const reuse = await store.rotate(s.sid, s.first.hash, newRefreshToken(s.sid).hash, TTL_SEC);
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

  it('uses a 2 s window by default', async () => {
    store = make({});
    const s = await newSession();
    await store.rotate(s.sid, s.first.hash, newRefreshToken(s.sid).hash, TTL_SEC);
    // Past the short window of the other tests, well within the default one.
    await sleep(WINDOW_MS + 50);
    const late = await store.rotate(s.sid, s.first.hash, newRefreshToken(s.sid).hash, TTL_SEC);
    expect(late.outcome).toBe('concurrent');
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

  it('does not wait without replicaAckMs (one server, Redis Cluster)', async () => {
    const store = new RedisSessionStore(redis, {});
    const s = record(9002);
    await store.create(s, newRefreshToken(s.id).hash, TTL_SEC);
    expect(await store.touch(s.id, Date.now())).toBe('live');
  });
});
