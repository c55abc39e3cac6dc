import { describeBackends } from './describe-backends.js';
import { loadConfig } from './app-config.js';

describe('describeBackends', () => {
  it('names the embedded parts', () => {
    expect(describeBackends(loadConfig({ EMBEDDED_DB_PATH: 'tmp/x.sqlite' }))).toBe(
      'backends: database=embedded SQLite at tmp/x.sqlite; redis=in-process (single replica only); ' +
        'wechat=sandbox (any code logs in); wechat-pay=sandbox; jwt-secret=random for this run',
    );
  });

  it('names MySQL, replicas, Redis and the real WeChat without any password', () => {
    const line = describeBackends(
      loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: 'mysql://app:db-pass-1@db.internal:3307/shop',
        DATABASE_REPLICA_URLS:
          'mysql://app:db-pass-2@r1:3306/shop,mysql://app:db-pass-3@r2:3306/shop',
        REDIS_URL: 'redis://:redis-pass@cache.internal:6380/2',
        JWT_SECRET: 'j'.repeat(40),
        WECHAT_APPID: 'wx123',
        WECHAT_SECRET: 'wechat-secret-value',
      }),
    );
    expect(line).toBe(
      'backends: database=MySQL db.internal:3307/shop + 2 read replica(s); redis=Redis cache.internal:6380/2; ' +
        'wechat=real (wx123 at https://api.weixin.qq.com); wechat-pay=off (payment routes answer 503); jwt-secret=JWT_SECRET',
    );
    expect(line).not.toMatch(/pass|wechat-secret-value|jjjj/);
  });
});
