import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import {
  createDatabase,
  dropDatabase,
  migrate,
  startCluster,
  type Cluster,
} from '../scripts/cluster.mjs';
import { baseEnv, TEST_MYSQL_URL, testRedisPrefix, uniqueSuffix } from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { startLoad, type LoadMix, type LoadRequest, type LoadResult } from './helpers/load.js';

// The deploy topology for real: 3 built app processes behind nginx rendered
// from docker/nginx.conf (scripts/cluster.mjs, the code of `npm run
// cluster:local`), on the shared MariaDB and Redis, WeChat faked locally.

const DRAIN_MS = 1500;
const LOGIN_LIMIT = 5;
const ADMIN_OPENID = 'cluster-admin-openid';

interface Answer {
  status: number;
  body: { code: number; data: Record<string, unknown> | null; requestId: string };
  requestId: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('3 replicas behind nginx', () => {
  let wx: FakeWechat;
  let cluster: Cluster;
  let dbName: string;
  let ipSeq = 0;

  /** A distinct client address per login, so the per-IP login limit only bites where meant. */
  const nextIp = () => `10.77.${Math.floor(++ipSeq / 250)}.${ipSeq % 250}`;

  async function call(
    method: string,
    path: string,
    options: {
      token?: string;
      body?: unknown;
      ip?: string;
      requestId?: string;
      idempotencyKey?: string;
    } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.ip) headers['x-forwarded-for'] = options.ip;
    if (options.requestId) headers['x-request-id'] = options.requestId;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${cluster.url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    return {
      status: res.status,
      body: (await res.json()) as Answer['body'],
      requestId: res.headers.get('x-request-id'),
    };
  }

  async function login(openid?: string): Promise<{ token: string; userId: number }> {
    const { code } = wx.issueCode({ openid });
    const res = await call('POST', '/api/v1/auth/login', { body: { code }, ip: nextIp() });
    if (res.status !== 200) throw new Error(`login: ${res.status} ${JSON.stringify(res.body)}`);
    const data = res.body.data as { accessToken: string; user: { id: number } };
    return { token: data.accessToken, userId: data.user.id };
  }

  /**
   * The replica (port) that finally answered a request, from nginx's access
   * log. nginx writes the line just after the response, so wait for it briefly.
   */
  async function upstreamOf(requestId: string): Promise<number | undefined> {
    for (let i = 0; i < 50; i++) {
      const line = cluster.accessLogLines().find((l) => l.includes(` rid=${requestId} `));
      if (line) {
        const last = /upstream=(\S+(?:, \S+)*) ustatus=/.exec(line)?.[1]?.split(', ').at(-1);
        return last && last !== '-' ? Number(last.split(':')[1]) : undefined;
      }
      await sleep(10);
    }
    return undefined;
  }

  /**
   * Sends the request through nginx until every replica has answered it at
   * least once (round robin), and returns the answers by replica port.
   */
  async function fromEveryReplica(
    send: (requestId: string) => Promise<Answer>,
  ): Promise<Map<number, Answer[]>> {
    const byPort = new Map<number, Answer[]>();
    for (let i = 0; i < 30 && byPort.size < cluster.replicas.length; i++) {
      const rid = `probe-${randomBytes(6).toString('hex')}`;
      const answer = await send(rid);
      const port = await upstreamOf(rid);
      if (port === undefined) throw new Error(`no access log line for ${rid}`);
      byPort.set(port, [...(byPort.get(port) ?? []), answer]);
    }
    const byNumber = (a: number, b: number) => a - b;
    expect([...byPort.keys()].sort(byNumber)).toEqual(
      cluster.replicas.map((r) => r.port).sort(byNumber),
    );
    return byPort;
  }

  beforeAll(async () => {
    wx = await startFakeWechat();
    dbName = `mpt_cluster_${uniqueSuffix()}`;
    const url = await createDatabase(TEST_MYSQL_URL, dbName);
    const env = {
      ...baseEnv(url, testRedisPrefix()),
      LOG_LEVEL: 'warn',
      WECHAT_API_BASE_URL: wx.url,
      ADMIN_OPENIDS: ADMIN_OPENID,
      SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
      SHUTDOWN_TIMEOUT_MS: '10000',
      THROTTLE_LOGIN_LIMIT: String(LOGIN_LIMIT),
    };
    migrate(env);
    cluster = await startCluster({ env, replicas: 3 });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await wx?.close();
    if (dbName) await dropDatabase(TEST_MYSQL_URL, dbName);
  }, 30_000);

  it('passes a well-formed X-Request-Id through, and makes one the app echoes when there is none', async () => {
    const kept = await call('GET', '/health/live', { requestId: 'client-id-1' });
    expect(kept.requestId).toBe('client-id-1');
    expect(kept.body.requestId).toBe('client-id-1');

    const made = await call('GET', '/health/live');
    expect(made.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(made.body.requestId).toBe(made.requestId);
    // nginx logged the same id it passed on: one id across proxy and app logs.
    expect(await upstreamOf(made.requestId!)).toBeDefined();

    const bad = await call('GET', '/health/live', { requestId: 'bad id with spaces' });
    expect(bad.requestId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses a body over BODY_LIMIT_BYTES at nginx with 413/41300 in the envelope', async () => {
    const res = await fetch(`${cluster.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'x'.repeat(262_144) }),
    });
    expect(res.status).toBe(413);
    const body = (await res.json()) as Answer['body'];
    expect(body).toMatchObject({ code: 41300, message: 'body too large' });
    expect(body.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('holds the login limit across the replicas: exactly N of a burst are admitted', async () => {
    const ip = '198.51.100.23';
    const burst = 15;
    const rids = Array.from({ length: burst }, (_, i) => `burst-${i}-${uniqueSuffix()}`);
    const answers = await Promise.all(
      rids.map((requestId) =>
        call('POST', '/api/v1/auth/login', { body: { code: wx.issueCode().code }, ip, requestId }),
      ),
    );
    const admitted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(admitted).toHaveLength(LOGIN_LIMIT);
    expect(refused).toHaveLength(burst - LOGIN_LIMIT);
    expect(refused.every((a) => a.body.code === 42900)).toBe(true);
    // The burst really was spread: every replica counted into the same limit.
    expect(new Set(await Promise.all(rids.map(upstreamOf))).size).toBe(3);
  });

  it('a logout through one replica is refused by every replica within 1 s', async () => {
    const user = await login();
    const warm = await fromEveryReplica((requestId) =>
      call('GET', '/api/v1/users/me', { token: user.token, requestId }),
    );
    for (const answers of warm.values()) expect(answers[0].status).toBe(200);

    const out = await call('POST', '/api/v1/auth/logout', { token: user.token });
    expect(out.status).toBe(200);
    const loggedOutAt = Date.now();
    await sleep(Math.max(0, 1000 - (Date.now() - loggedOutAt)));

    const after = await fromEveryReplica((requestId) =>
      call('GET', '/api/v1/users/me', { token: user.token, requestId }),
    );
    for (const answers of after.values()) {
      for (const a of answers) expect([a.status, a.body.code]).toEqual([401, 40102]);
    }
  });

  it('an admin product change is served by every replica within 1 s', async () => {
    const admin = await login(ADMIN_OPENID);
    const created = await call('POST', '/api/v1/admin/products', {
      token: admin.token,
      body: { name: 'Cluster tea', priceCents: 1200, stock: 50 },
    });
    expect(created.status).toBe(201);
    const id = (created.body.data as { id: number }).id;
    // Every replica caches the old price (L1).
    const before = await fromEveryReplica((requestId) =>
      call('GET', `/api/v1/products/${id}`, { requestId }),
    );
    for (const answers of before.values()) {
      expect(answers[0].body.data).toMatchObject({ priceCents: 1200 });
    }

    const patched = await call('PATCH', `/api/v1/admin/products/${id}`, {
      token: admin.token,
      body: { priceCents: 990 },
    });
    expect(patched.status).toBe(200);
    await sleep(1000);

    const after = await fromEveryReplica((requestId) =>
      call('GET', `/api/v1/products/${id}`, { requestId }),
    );
    for (const answers of after.values()) {
      for (const a of answers) expect(a.body.data).toMatchObject({ priceCents: 990 });
    }
  });

  /**
   * Every order the load sent exists exactly once: a 2xx answer names an order
   * that is in the database under its key, a failed one is retried with the
   * same key (as a client would) and then exists, and no key has two orders.
   */
  async function expectEveryOrderOnce(result: LoadResult): Promise<void> {
    const sent = result.writes.filter((w) => w.request.path === '/api/v1/orders');
    expect(sent.length).toBeGreaterThan(0);
    const idByKey = new Map<string, number>();
    for (const w of sent) {
      const key = w.request.headers!['idempotency-key'];
      let answer = { status: w.status, body: JSON.parse(w.body) as Answer['body'] };
      if (w.status >= 500) {
        answer = await call('POST', '/api/v1/orders', {
          token: w.request.headers!.authorization.slice('Bearer '.length),
          body: w.request.body,
          idempotencyKey: key,
        });
      }
      expect([200, 201]).toContain(answer.status);
      idByKey.set(key, (answer.body.data as { id: number }).id);
    }
    const conn = await createConnection(`${TEST_MYSQL_URL.replace(/\/+$/, '')}/${dbName}`);
    try {
      const [rows] = await conn.query(
        'SELECT idempotency_key AS k, id FROM orders WHERE idempotency_key IN (?)',
        [[...idByKey.keys()]],
      );
      const stored = rows as { k: string; id: number }[];
      expect(stored).toHaveLength(idByKey.size);
      for (const row of stored) expect(row.id).toBe(idByKey.get(row.k));
    } finally {
      await conn.end();
    }
  }

  describe('under steady load', () => {
    let mix: LoadMix;

    beforeAll(async () => {
      const admin = await login(ADMIN_OPENID);
      const products: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await call('POST', '/api/v1/admin/products', {
          token: admin.token,
          body: { name: `Load item ${i}`, priceCents: 100 + i, stock: 1000 },
        });
        products.push((res.body.data as { id: number }).id);
      }
      const users = await Promise.all([login(), login(), login(), login()]);
      const auth = (n: number) => ({
        authorization: `Bearer ${users[n % users.length].token}`,
      });
      const reads: ((n: number) => LoadRequest)[] = [
        () => ({ method: 'GET', path: '/api/v1/products?limit=5' }),
        (n) => ({ method: 'GET', path: `/api/v1/products/${products[n % products.length]}` }),
        (n) => ({ method: 'GET', path: '/api/v1/users/me', headers: auth(n) }),
      ];
      // Authenticated writes, which nginx must never replay. Each order has
      // its own Idempotency-Key, so a client may retry one safely.
      const run = randomBytes(4).toString('hex');
      const writes: ((n: number) => LoadRequest)[] = [
        (n) => ({
          method: 'PUT',
          path: '/api/v1/users/me',
          headers: auth(n),
          body: { nickname: `load-${n}` },
        }),
        (n) => ({
          method: 'POST',
          path: '/api/v1/orders',
          headers: { ...auth(n), 'idempotency-key': `load-${run}-${n}` },
          body: { items: [{ productId: products[n % products.length], quantity: 1 }] },
        }),
      ];
      mix = (n) => {
        const all = [...reads, ...writes];
        return all[n % all.length](n);
      };
    }, 30_000);

    it('a rolling restart of every replica (SIGTERM, one by one) loses no request', async () => {
      const pidsBefore = cluster.replicas.map((r) => r.pid);
      const load = startLoad(cluster.url, mix, 8);
      await sleep(500);
      for (let i = 0; i < cluster.replicas.length; i++) await cluster.restartReplica(i);
      const linesAfterRestarts = cluster.accessLogLines().length;
      // Every replica is back in rotation (restartReplica waits for that): let
      // each of them serve some of the load.
      await sleep(1000);
      const result = await load.stop();

      const retried = cluster.accessLogLines().filter((l) => /upstream=\S+, /.test(l)).length;
      console.info(
        `rolling restart: ${result.total} requests (${JSON.stringify(result.byMethod)}), ` +
          `statuses ${JSON.stringify(result.byStatus)}, moved to the next replica by nginx: ${retried}`,
      );
      expect(result.connectionErrors).toEqual([]);
      expect(result.serverErrors).toEqual([]);
      expect(result.byMethod.PUT).toBeGreaterThan(50);
      expect(result.byMethod.POST).toBeGreaterThan(50);
      expect((result.byStatus[200] ?? 0) + (result.byStatus[201] ?? 0)).toBe(result.total);
      await expectEveryOrderOnce(result);
      // Every replica is a new process, and all of them serve again.
      cluster.replicas.forEach((r, i) => expect(r.pid).not.toBe(pidsBefore[i]));
      const served = new Set(
        cluster
          .accessLogLines()
          .slice(linesAfterRestarts)
          .map((l) => /upstream=(?:\S+, )*127\.0\.0\.1:(\d+) /.exec(l)?.[1]),
      );
      for (const r of cluster.replicas) expect(served).toContain(String(r.port));
    }, 120_000);

    it('kill -9 of one replica: nginx routes around it; only writes in flight on it fail', async () => {
      const load = startLoad(cluster.url, mix, 8);
      await sleep(700);
      await cluster.killReplica(1, 'SIGKILL');
      await sleep(1500);
      const result = await load.stop();

      console.info(
        `kill -9: ${result.total} requests, statuses ${JSON.stringify(result.byStatus)}, ` +
          `failed: ${result.serverErrors.length} (${result.serverErrors.map((e) => e.method).join(', ') || 'none'})`,
      );
      expect(result.connectionErrors).toEqual([]);
      // GETs in flight on the killed replica are retried on the next one;
      // a write that reached it is not (it may have been applied), so at most
      // the writes in flight on it at that instant fail, as 503/50300.
      for (const e of result.serverErrors) {
        expect(['PUT', 'POST']).toContain(e.method);
        expect(e.status).toBe(503);
        expect(JSON.parse(e.body)).toMatchObject({ code: 50300 });
      }
      expect(result.serverErrors.length).toBeLessThanOrEqual(8);
      // The client retries its failed orders with the same key: none is lost
      // and none is made twice.
      await expectEveryOrderOnce(result);
      await cluster.startReplica(1);
    }, 60_000);
  });
});
