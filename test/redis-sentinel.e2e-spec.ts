import type { Response } from 'supertest';
import type { TestApp } from './helpers/app.js';
import type { LoggedIn } from './helpers/auth.js';
import { startSentinelGroup, type OwnSentinelGroup } from './helpers/redis-topology.js';
import { useStack } from './helpers/stack.js';
import { sleep, until } from './helpers/until.js';

const API = '/api/v1';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('Redis Sentinel: a failover under load (REDIS_SENTINELS)', () => {
  let group: OwnSentinelGroup | undefined;
  // Registered before the stack: started first, stopped after the app closed.
  beforeAll(async () => {
    group = await startSentinelGroup(1, 2);
  }, 30_000);
  afterAll(() => group?.stop());

  const stack = useStack({
    env: () => ({
      REDIS_SENTINELS: (group as OwnSentinelGroup).sentinels,
      REDIS_SENTINEL_NAME: (group as OwnSentinelGroup).name,
    }),
  });
  let app: TestApp;
  beforeAll(() => {
    app = stack.app;
  });

  it('loses no acknowledged session, answers no 500, and recovers by itself', async () => {
    const g = group as OwnSentinelGroup;
    const [first] = g.servers;
    expect(await g.primaryPort()).toBe(first);
    // A session write waits for a replica's acknowledgement: on this loaded
    // machine the first one may answer 503 (retry), never anything else.
    const first200 = await until(async () => {
      const res = await app.http
        .post(`${API}/auth/login`)
        .send({ code: stack.wx.issueCode().code });
      expect([200, 503]).toContain(res.status);
      return res.status === 200 ? (res.body.data as LoggedIn) : undefined;
    }, 10_000);
    const signedIn: LoggedIn[] = [first200];
    const answers: Response[] = [];
    let loginsRefused = 0;

    // Bounded load: a login and a profile read every 50 ms, for 4 s; the
    // primary crashes after 1 s (the sentinels see it down after 1 s more).
    const until4s = Date.now() + 4000;
    const load = (async () => {
      while (Date.now() < until4s) {
        const { code } = stack.wx.issueCode();
        const tick = [
          app.http
            .post(`${API}/auth/login`)
            .send({ code })
            .then((res) => {
              answers.push(res);
              if (res.status === 200) signedIn.push(res.body.data as LoggedIn);
              else loginsRefused++;
            }),
          app.http
            .get(`${API}/users/me`)
            .set(bearer(signedIn[signedIn.length - 1].accessToken))
            .then((res) => void answers.push(res)),
        ];
        await Promise.all([...tick, sleep(50)]);
      }
    })();
    await sleep(1000);
    const signedInBeforeCrash = signedIn.length;
    await g.crashPrimary();
    await load;

    // The sentinels moved the primary; the app followed without a restart.
    await until(async () => ((await g.primaryPort()) !== first ? true : undefined), 10_000);
    const after = await until(async () => {
      const res = await app.http
        .post(`${API}/auth/login`)
        .send({ code: stack.wx.issueCode().code });
      return res.status === 200 ? res : undefined;
    }, 10_000);
    signedIn.push(after.body.data as LoggedIn);

    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    for (const r of answers.filter((r) => r.status === 503)) {
      expect({ body: r.body.message, retryAfter: Number(r.headers['retry-after']) > 0 }).toEqual({
        body: r.body.message,
        retryAfter: true,
      });
    }
    // The load spanned the switch: logins succeeded before the crash, and
    // some were refused while no primary answered.
    expect(signedInBeforeCrash).toBeGreaterThan(1);
    expect(loginsRefused).toBeGreaterThan(0);

    // Every session whose login answered 200 is on the new primary: its
    // refresh token still rotates (a lost session would answer 401).
    // A 503 (with Retry-After) only says no replica acknowledged the
    // rotation in time while the sentinels repoint them: the client retries
    // it with the same token, and the repeat gets the same successor (a
    // revoked session would answer 401, which is never retried).
    const refreshed = await Promise.all(
      signedIn.map((u) =>
        until(async () => {
          const res = await app.http
            .post(`${API}/auth/refresh`)
            .send({ refreshToken: u.refreshToken });
          return res.status === 503 ? undefined : res;
        }, 15_000),
      ),
    );
    expect(refreshed.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
  }, 60_000);
});
