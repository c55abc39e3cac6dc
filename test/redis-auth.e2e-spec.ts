import type { TestApp } from './helpers/app.js';
import { loginAs } from './helpers/auth.js';
import type { FakeWechat } from './helpers/fake-wechat.js';
import {
  startRedisCluster,
  startSentinelGroup,
  type OwnCluster,
  type OwnSentinelGroup,
} from './helpers/redis-topology.js';
import { useStack } from './helpers/stack.js';
import { until } from './helpers/until.js';

const API = '/api/v1';
const NODE_PASSWORD = 'node-pass-of-the-auth-spec';
const SENTINEL_PASSWORD = 'sentinel-pass-of-the-auth-spec';
const ADMIN_OPENID = 'redis-auth-admin';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/**
 * Sessions, the bus (logout reaches the other replica), BullMQ (the queue
 * counts) and a refresh, all through servers that refuse unauthenticated
 * clients.
 */
async function everyConnectionAuthenticates(a: TestApp, b: TestApp, wx: FakeWechat): Promise<void> {
  expect((await a.http.get('/health/ready')).status).toBe(200);
  // Behind Sentinel a session write waits for a replica, which may still be
  // syncing its first copy: 503 until then (retried, as a client would).
  await until(async () => {
    const res = await a.http.post(`${API}/auth/login`).send({ code: wx.issueCode().code });
    return res.status === 200 || undefined;
  }, 10_000);
  const u = await loginAs(a, wx);
  const refreshed = await b.http.post(`${API}/auth/refresh`).send({ refreshToken: u.refreshToken });
  expect(refreshed.status).toBe(200);
  const token = refreshed.body.data.accessToken as string;
  expect((await b.http.get(`${API}/users/me`).set(bearer(token))).status).toBe(200);
  const admin = await loginAs(a, wx, { openid: ADMIN_OPENID });
  const queues = await b.http.get(`${API}/admin/queues`).set(bearer(admin.accessToken));
  expect(queues.status).toBe(200);
  expect(queues.body.data.length).toBeGreaterThan(0);
  expect((await a.http.post(`${API}/auth/logout`).set(bearer(token))).status).toBe(200);
  await until(
    async () => (await b.http.get(`${API}/users/me`).set(bearer(token))).body.code === 40102,
    1000,
  );
  for (const app of [a, b]) expect(app.rawLogs()).not.toContain(NODE_PASSWORD);
}

describe('Redis Cluster with requirepass (REDIS_PASSWORD)', () => {
  let cluster: OwnCluster | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster(3, NODE_PASSWORD);
  }, 30_000);
  afterAll(() => cluster?.stop());

  const stack = useStack({
    apps: 2,
    env: () => ({
      REDIS_CLUSTER_NODES: (cluster as OwnCluster).nodes,
      REDIS_PASSWORD: NODE_PASSWORD,
      ADMIN_OPENIDS: ADMIN_OPENID,
    }),
  });

  it('authenticates every connection: sessions, the bus, BullMQ', async () => {
    const [a, b] = stack.apps;
    await everyConnectionAuthenticates(a, b, stack.wx);
  });
});

describe('Sentinel with passwords (REDIS_PASSWORD, REDIS_SENTINEL_PASSWORD)', () => {
  let group: OwnSentinelGroup | undefined;
  beforeAll(async () => {
    group = await startSentinelGroup(1, 2, {
      servers: NODE_PASSWORD,
      sentinels: SENTINEL_PASSWORD,
    });
  }, 30_000);
  afterAll(() => group?.stop());

  const stack = useStack({
    apps: 2,
    env: () => ({
      REDIS_SENTINELS: (group as OwnSentinelGroup).sentinels,
      REDIS_SENTINEL_NAME: (group as OwnSentinelGroup).name,
      REDIS_PASSWORD: NODE_PASSWORD,
      REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
      ADMIN_OPENIDS: ADMIN_OPENID,
    }),
  });

  it('authenticates to the sentinels and the servers, and again after a failover', async () => {
    const g = group as OwnSentinelGroup;
    const [a, b] = stack.apps;
    await everyConnectionAuthenticates(a, b, stack.wx);
    const first = await g.primaryPort();
    await g.crashPrimary();
    await until(async () => ((await g.primaryPort()) !== first ? true : undefined), 15_000);
    // The new primary asks for the same password: logins succeed again by themselves.
    const after = await until(async () => {
      const res = await a.http.post(`${API}/auth/login`).send({ code: stack.wx.issueCode().code });
      return res.status === 200 ? res : undefined;
    }, 15_000);
    expect(after.body.data.accessToken).toEqual(expect.any(String));
    for (const app of [a, b]) expect(app.rawLogs()).not.toContain(SENTINEL_PASSWORD);
  }, 60_000);
});
