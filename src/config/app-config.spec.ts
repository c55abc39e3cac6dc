import { ConfigError, loadConfig } from './app-config.js';

const valid = {
  NODE_ENV: 'production',
  DATABASE_URL: 'mysql://app:p%40ss@db.internal:3307/shop',
  REDIS_URL: 'redis://cache:6379/2',
  JWT_SECRET: 'x'.repeat(32),
  WECHAT_APPID: 'wx123',
  WECHAT_SECRET: 'topsecret',
};

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('parses a full production environment into typed areas', () => {
    const config = loadConfig({
      ...valid,
      DATABASE_REPLICA_URLS: 'mysql://ro@r1:3306/shop, mysql://ro@r2/shop',
      TRUST_PROXY: '10.0.0.0/8,127.0.0.1',
      ADMIN_OPENIDS: 'o1, o2',
      PORT: '8080',
    });
    expect(config.embedded).toBe(false);
    expect(config.http).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      trustProxy: ['10.0.0.0/8', '127.0.0.1'],
    });
    expect(config.database).toEqual({
      kind: 'mysql',
      primary: {
        host: 'db.internal',
        port: 3307,
        username: 'app',
        password: 'p@ss',
        database: 'shop',
      },
      replicas: [
        { host: 'r1', port: 3306, username: 'ro', password: '', database: 'shop' },
        { host: 'r2', port: 3306, username: 'ro', password: '', database: 'shop' },
      ],
      poolSize: 10,
      poolQueueLimit: 1000,
      replicaRestoreMs: 10000,
    });
    expect(config.consistency).toEqual({ readYourWritesMs: 5000 });
    expect(config.jwt).toMatchObject({ accessTtl: 900, refreshTtl: 2592000, generated: false });
    expect(config.wechat.apiBaseUrl).toBe('https://api.weixin.qq.com');
    expect(config.adminOpenIds).toEqual(['o1', 'o2']);
  });

  it('defaults to the embedded quick start with a generated JWT secret', () => {
    const config = loadConfig({});
    expect(config.embedded).toBe(true);
    expect(config.database).toEqual({ kind: 'embedded', path: 'data/embedded.sqlite' });
    expect(config.redis).toBeUndefined();
    expect(config.jwt.generated).toBe(true);
    expect(config.jwt.secret.length).toBeGreaterThanOrEqual(32);
  });

  it.each([
    [{ JWT_SECRET: 'short' }, /^Invalid configuration: JWT_SECRET must be at least 32 characters$/],
    [{ PORT: 'eighty' }, /^Invalid configuration: PORT /],
    [{ PORT: '70000' }, /^Invalid configuration: PORT /],
    [{ READ_YOUR_WRITES_MS: '0' }, /^Invalid configuration: READ_YOUR_WRITES_MS /],
    [{ DATABASE_URL: 'postgres://x@y/z' }, /^Invalid configuration: DATABASE_URL must be mysql:/],
    [
      { DATABASE_REPLICA_URLS: 'mysql://a@b/c,nope' },
      /^Invalid configuration: DATABASE_REPLICA_URLS /,
    ],
    [{ REDIS_URL: 'http://cache' }, /^Invalid configuration: REDIS_URL /],
    [{ JWT_ACCESS_TTL: '-5' }, /^Invalid configuration: JWT_ACCESS_TTL /],
    [{ WECHAT_API_BASE_URL: 'not a url' }, /^Invalid configuration: WECHAT_API_BASE_URL /],
    [{ TRUST_PROXY: '10.0.0.0/33' }, /^Invalid configuration: TRUST_PROXY /],
    [{ TRUST_PROXY: 'proxy.local' }, /^Invalid configuration: TRUST_PROXY /],
    [{ NODE_ENV: 'staging' }, /^Invalid configuration: NODE_ENV /],
  ])('rejects %o with one line naming the variable', (override, message) => {
    const text = errorOf({ ...valid, ...override });
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });

  it.each([
    ['DATABASE_URL', /DATABASE_URL is required when NODE_ENV=production/],
    ['REDIS_URL', /REDIS_URL is required when NODE_ENV=production/],
    ['JWT_SECRET', /JWT_SECRET is required/],
    ['WECHAT_SECRET', /WECHAT_SECRET is required/],
  ])('refuses production without %s', (name, message) => {
    const env: Record<string, string> = { ...valid };
    delete env[name];
    expect(errorOf(env)).toMatch(message);
  });

  it('never puts a secret value into the error line', () => {
    const text = errorOf({ ...valid, JWT_SECRET: 'tiny-secret-value' });
    expect(text).not.toContain('tiny-secret-value');
  });

  it('serves /docs by default except in production, and DOCS_ENABLED decides when set', () => {
    const dev = { ...valid, NODE_ENV: 'development' };
    expect(loadConfig(valid).docs.enabled).toBe(false);
    expect(loadConfig(dev).docs.enabled).toBe(true);
    expect(loadConfig({ ...valid, DOCS_ENABLED: 'true' }).docs.enabled).toBe(true);
    expect(loadConfig({ ...dev, DOCS_ENABLED: 'false' }).docs.enabled).toBe(false);
    expect(errorOf({ ...valid, DOCS_ENABLED: 'yes' })).toMatch(
      /^Invalid configuration: DOCS_ENABLED /,
    );
  });
});
