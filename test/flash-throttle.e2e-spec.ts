import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { REDIS, type RedisClient } from '../src/infra/redis/index.js';
import { saleKeys } from '../src/modules/flash-sales/flash-keys.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { liveFlashSale } from './helpers/flash-sale.js';
import { useRedisCluster } from './helpers/redis-topology.js';
import { useStack, type Stack } from './helpers/stack.js';

const API = '/api/v1';
const LIMIT = 3;

/**
 * The flash throttle on the hottest write: a buyer over the limit gets the
 * guard's 429, with its headers, before any other answer, and nothing is
 * admitted for him, on one Redis server and on a Cluster (where the
 * throttle's keys and the sale's are in different slots).
 */
function throttledBuys(stack: Stack): void {
  let admin = '';
  let redis: RedisClient;

  beforeAll(async () => {
    admin = (await loginAs(stack.app, stack.wx, { admin: true })).accessToken;
    redis = stack.app.app.get<RedisClient>(REDIS);
  });

  const newSale = () =>
    liveFlashSale(stack.app, admin, { stock: 50, perUserLimit: 10, productStock: 100 });

  const buy = (u: LoggedIn, saleId: number, body: object = { quantity: 1 }, key?: string) =>
    stack.app.http
      .post(`${API}/flash-sales/${saleId}/orders`)
      .set('Authorization', `Bearer ${u.accessToken}`)
      .set('Idempotency-Key', key ?? `k-${randomBytes(8).toString('hex')}`)
      .send(body);

  function expectThrottled(r: Response): void {
    expect(r.status).toBe(429);
    expect(r.body).toMatchObject({ code: 42900, data: null });
    const retryAfter = Number(r.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(r.headers['x-ratelimit-limit']).toBe(String(LIMIT));
    expect(r.headers['x-ratelimit-remaining']).toBe('0');
    expect(r.headers['x-ratelimit-reset']).toBe(r.headers['retry-after']);
  }

  it('admits exactly the limit of a burst, refuses the rest 429 with the headers, and takes no unit for them', async () => {
    const saleId = await newSale();
    const [alice, bob] = await Promise.all([
      loginAs(stack.app, stack.wx),
      loginAs(stack.app, stack.wx),
    ]);
    const responses = await Promise.all(
      Array.from({ length: 2 * LIMIT }, () => buy(alice, saleId)),
    );
    const admitted = responses.filter((r) => r.status === 202);
    expect(admitted).toHaveLength(LIMIT);
    const remaining = admitted
      .map((r) => Number(r.headers['x-ratelimit-remaining']))
      .sort((x, y) => x - y);
    expect(remaining).toEqual([0, 1, 2]);
    for (const r of admitted) {
      expect(r.headers['x-ratelimit-limit']).toBe(String(LIMIT));
      expect(Number(r.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
    }
    const refused = responses.filter((r) => r.status !== 202);
    expect(refused).toHaveLength(LIMIT);
    for (const r of refused) expectThrottled(r);

    // Counted per user: another buyer is admitted.
    expect((await buy(bob, saleId)).status).toBe(202);
    const tickets = await redis.hvals(saleKeys(saleId).tickets);
    expect(tickets.filter((t) => t === `${alice.user.id}:1`)).toHaveLength(LIMIT);
    expect(tickets).toHaveLength(LIMIT + 1);
  });

  it('answers a blocked buyer 429 before a malformed body, an unknown sale or a replay', async () => {
    const saleId = await newSale();
    const carol = await loginAs(stack.app, stack.wx);
    const key = `k-${randomBytes(8).toString('hex')}`;
    const first = await buy(carol, saleId, { quantity: 1 }, key);
    expect(first.status).toBe(202);
    for (let i = 1; i < LIMIT; i++) expect((await buy(carol, saleId)).status).toBe(202);
    expectThrottled(await buy(carol, saleId));
    expectThrottled(await buy(carol, saleId, { quantity: 0 }));
    expectThrottled(await buy(carol, 999_999));
    expectThrottled(await buy(carol, saleId, { quantity: 1 }, key));
    expect(await redis.hlen(saleKeys(saleId).tickets)).toBe(LIMIT);
  });
}

const env = {
  THROTTLE_FLASH_LIMIT: String(LIMIT),
  THROTTLE_FLASH_TTL: '60',
  ADMIN_OPENIDS: 'throttle-admin',
  LOG_LEVEL: 'warn',
  WORKER_MODE: 'http',
};

describe('The flash throttle on one Redis server', () => {
  throttledBuys(useStack({ env }));
});

describe('The flash throttle on a 3-master Redis Cluster', () => {
  const cluster = useRedisCluster(3);
  throttledBuys(useStack({ env: () => ({ ...env, REDIS_CLUSTER_NODES: cluster.nodes }) }));
});
