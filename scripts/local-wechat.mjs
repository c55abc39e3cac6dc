// A stand-in WeChat for `npm run cluster:local` without WECHAT_APPID and
// WECHAT_SECRET: the cluster runs with NODE_ENV=production, which refuses the
// in-process sandbox, so its replicas talk to this local HTTP server instead.
// Like the sandbox, any login code works and the same code is the same user
// (openid `local_` + 24 hex digits of sha256("openid:" + code)); content
// checks pass; subscribe messages and shipping uploads are accepted and
// forgotten. Other APIs (phone numbers, /wxacode) answer errcode -1, which the
// app reports as 502/50200.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

export const LOCAL_APPID = 'wx-local-fake';
export const LOCAL_SECRET = 'local-fake-wechat-secret';

export function localOpenidFor(code) {
  return `local_${createHash('sha256').update(`openid:${code}`).digest('hex').slice(0, 24)}`;
}

function answer(url) {
  switch (url.pathname) {
    case '/sns/jscode2session': {
      const code = url.searchParams.get('js_code') ?? '';
      if (url.searchParams.get('appid') !== LOCAL_APPID || url.searchParams.get('secret') !== LOCAL_SECRET)
        return { errcode: 40013, errmsg: 'invalid appid' };
      if (code === '') return { errcode: 40029, errmsg: 'invalid code' };
      return {
        openid: localOpenidFor(code),
        session_key: createHash('sha256').update(`session:${code}`).digest().subarray(0, 16).toString('base64'),
      };
    }
    case '/cgi-bin/stable_token':
      return { access_token: `local_${randomBytes(8).toString('hex')}`, expires_in: 7200 };
    case '/wxa/msg_sec_check':
      return { errcode: 0, errmsg: 'ok', result: { suggest: 'pass', label: 100 } };
    case '/cgi-bin/message/subscribe/send':
    case '/wxa/sec/order/upload_shipping_info':
      return { errcode: 0, errmsg: 'ok' };
    default:
      return { errcode: -1, errmsg: 'not offered by the local fake WeChat' };
  }
}

/** Starts it on a spare loopback port; `close()` stops it. */
export async function startLocalWechat() {
  const server = createServer((req, res) => {
    // Bodies are read and ignored: only the paths decide.
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer(new URL(req.url ?? '/', 'http://127.0.0.1'))));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => server.close(r)),
  };
}
