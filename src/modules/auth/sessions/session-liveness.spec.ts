import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { OwnRedisServer } from '../../../../test/helpers/redis-server.js';
import { AppError } from '../../../common/errors/index.js';
import { MemoryMessageBus } from '../../../infra/bus/index.js';
import { newRefreshToken, newSessionId } from '../tokens/index.js';
import { RedisSessionStore } from './redis-session.store.js';
import { SessionLiveness } from './session-liveness.js';

const LIVE_TTL_MS = 1_000;
const OUTAGE_GRACE_MS = 60_000;

/** A 503 from the liveness check, as the guard passes it on. */
const unavailable = expect.objectContaining({ reason: 'UNAVAILABLE' }) as AppError;

describe('SessionLiveness while the session store (real Redis) is unreachable', () => {
  let server: OwnRedisServer;
  let redis: Redis;
  let store: RedisSessionStore;
  let liveness: SessionLiveness;
  let now: number;

  beforeAll(async () => {
    server = await OwnRedisServer.start();
    // As the app's client: commands fail at once while the server is away.
    redis = new Redis(server.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 500,
      retryStrategy: () => 50,
    });
    redis.on('error', () => undefined);
    await redis.connect();
    store = new RedisSessionStore(redis);
  });
  afterAll(async () => {
    vi.useRealTimers();
    redis?.disconnect();
    await server?.down();
  });

  // Only Date is faked: the clock liveness reads moves on command, while
  // ioredis keeps its real timers.
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    now = Date.now();
    vi.setSystemTime(now);
    if (!(await answers())) await restart();
    liveness = new SessionLiveness(store, new MemoryMessageBus(), {
      liveTtlMs: LIVE_TTL_MS,
      revokedTtlMs: 60_000,
      outageGraceMs: OUTAGE_GRACE_MS,
      maxEntries: 1_000,
    });
  });
  afterEach(() => vi.useRealTimers());

  async function session(): Promise<string> {
    const sid = newSessionId();
    await store.create(
      {
        id: sid,
        userId: 7,
        role: 'user',
        device: null,
        createdAt: now,
        lastSeenAt: now,
        sealedSessionKey: 'sealed',
      },
      newRefreshToken(sid).hash,
      600,
    );
    return sid;
  }

  /** Starts the server again and waits for the client to reconnect. */
  async function restart(): Promise<void> {
    await server.up();
    // On a loaded machine ioredis may still call the dropped connection
    // `ready`: wait for an answer from the new server, not for the status.
    for (;;) {
      try {
        await redis.ping();
        return;
      } catch {
        await sleep(10);
      }
    }
  }

  const answers = () =>
    redis.ping().then(
      () => true,
      () => false,
    );

  const advance = (ms: number) => vi.setSystemTime((now += ms));

  it('admits a session seen live within the grace, and 503s one it never saw', async () => {
    const seen = await session();
    const unseen = await session();
    await expect(liveness.check(seen)).resolves.toBe(true);
    await server.down();

    advance(LIVE_TTL_MS + 1);
    await expect(liveness.check(seen)).resolves.toBe(true);
    // Admitted from memory until the next re-check, not asking Redis per request.
    expect(liveness.check(seen)).toBe(true);
    await expect(liveness.check(unseen)).rejects.toEqual(unavailable);
    await expect(liveness.check(newSessionId())).rejects.toEqual(unavailable);

    // Still within the grace after several re-checks.
    advance(OUTAGE_GRACE_MS - LIVE_TTL_MS - 10);
    await expect(liveness.check(seen)).resolves.toBe(true);
  });

  it('stops admitting once the grace since the last confirmation has passed', async () => {
    const seen = await session();
    await expect(liveness.check(seen)).resolves.toBe(true);
    await server.down();
    advance(OUTAGE_GRACE_MS / 2);
    await expect(liveness.check(seen)).resolves.toBe(true);
    advance(OUTAGE_GRACE_MS / 2);
    await expect(liveness.check(seen)).rejects.toEqual(unavailable);
  });

  it('keeps refusing a session revoked before the outage', async () => {
    const sid = await session();
    await expect(liveness.check(sid)).resolves.toBe(true);
    await liveness.announceRevoked([sid]);
    await server.down();
    advance(LIVE_TTL_MS + 1);
    expect(liveness.check(sid)).toBe(false);
    expect(liveness.endedError(sid).message).toBe('session revoked');
  });

  it('trusts the store again once it answers', async () => {
    const sid = await session();
    await expect(liveness.check(sid)).resolves.toBe(true);
    await server.down();
    advance(LIVE_TTL_MS + 1);
    await expect(liveness.check(sid)).resolves.toBe(true);
    await restart();
    // The restarted server kept no data: the store now says the session is gone.
    advance(LIVE_TTL_MS + 1);
    await expect(liveness.check(sid)).resolves.toBe(false);
    // Nobody revoked it: same code, a message that says what happened.
    expect(liveness.endedError(sid)).toMatchObject({
      reason: 'SESSION_REVOKED',
      message: 'session expired, sign in again',
    });
  });
});
