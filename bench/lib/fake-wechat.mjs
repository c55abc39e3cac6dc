// A minimal WeChat for load: every code logs in, as one of `users` returning
// users (bench-user-<n>, taken from the code's trailing number). The e2e
// suite's fuller fake (test/helpers/fake-wechat.ts) checks single use and
// failure modes; here only throughput matters.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

export const BENCH_APPID = 'wx-bench-appid';
export const BENCH_WECHAT_SECRET = 'bench-wechat-secret';
/** The login code of the benches' admin, and the openid this server answers it with (ADMIN_OPENIDS). */
export const BENCH_ADMIN_CODE = 'bench-admin-999';
export const BENCH_ADMIN_OPENID = 'bench-user-999';

export async function startFakeWechat({ users = 1000 } = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    res.setHeader('content-type', 'text/plain');
    if (
      url.pathname === '/sns/jscode2session' &&
      url.searchParams.get('appid') === BENCH_APPID &&
      url.searchParams.get('secret') === BENCH_WECHAT_SECRET
    ) {
      const n = Number(/(\d+)$/.exec(url.searchParams.get('js_code') ?? '')?.[1] ?? 0) % users;
      res.end(
        JSON.stringify({
          openid: `bench-user-${n}`,
          session_key: createHash('md5').update(String(n)).digest('base64'),
        }),
      );
      return;
    }
    res.end(JSON.stringify({ errcode: 40013, errmsg: 'invalid appid' }));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => server.close(r)),
  };
}
