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
    [
      { JWT_PREVIOUS_SECRETS: `${'p'.repeat(32)},short` },
      /^Invalid configuration: JWT_PREVIOUS_SECRETS must be a comma-separated list of secrets of at least 32 characters$/,
    ],
    [{ THROTTLE_FLASH_LIMIT: '0' }, /^Invalid configuration: THROTTLE_FLASH_LIMIT /],
    [{ SETTINGS_REFRESH_MS: '0' }, /^Invalid configuration: SETTINGS_REFRESH_MS /],
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
    [{ REDIS_CLUSTER_NODES: 'a:1,b' }, /^Invalid configuration: REDIS_CLUSTER_NODES .*host:port/],
    [{ REDIS_CLUSTER_NODES: 'a:70000' }, /^Invalid configuration: REDIS_CLUSTER_NODES /],
    [{ REDIS_SENTINELS: 's1:26379' }, /REDIS_SENTINEL_NAME is required with REDIS_SENTINELS/],
    [{ REDIS_SENTINEL_NAME: 'mymaster' }, /REDIS_SENTINEL_NAME needs REDIS_SENTINELS/],
    [
      { REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 's:2', REDIS_SENTINEL_NAME: 'm' },
      /REDIS_CLUSTER_NODES and REDIS_SENTINELS are exclusive/,
    ],
    [{ REDIS_PASSWORD: 'pw' }, /REDIS_PASSWORD applies to REDIS_CLUSTER_NODES or REDIS_SENTINELS/],
    [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_USERNAME: 'app' }, /REDIS_USERNAME needs REDIS_PASSWORD/],
    [{ REDIS_SENTINEL_PASSWORD: 'pw' }, /REDIS_SENTINEL_PASSWORD needs REDIS_SENTINELS/],
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

  it('asks a command on the database (seed, admin) for the database only', () => {
    const env = { NODE_ENV: 'production', DATABASE_URL: valid.DATABASE_URL };
    expect(loadConfig(env, { cli: true }).database).toMatchObject({ kind: 'mysql' });
    expect(() => loadConfig(env)).toThrow(/REDIS_URL is required/);
    expect(() => loadConfig({ NODE_ENV: 'production' }, { cli: true })).toThrow(
      /DATABASE_URL is required/,
    );
  });

  it('uses REDIS_CLUSTER_NODES or REDIS_SENTINELS instead of REDIS_URL when set', () => {
    expect(loadConfig(valid).redis?.topology).toEqual({
      kind: 'single',
      url: 'redis://cache:6379/2',
    });
    expect(
      loadConfig({ ...valid, REDIS_CLUSTER_NODES: 'r1:7000, 10.0.0.2:7001,[::1]:7002' }).redis,
    ).toEqual({
      topology: {
        kind: 'cluster',
        nodes: [
          { host: 'r1', port: 7000 },
          { host: '10.0.0.2', port: 7001 },
          { host: '::1', port: 7002 },
        ],
      },
      keyPrefix: 'mp:',
      commandTimeoutMs: 1000,
    });
    const { REDIS_URL: _url, ...noUrl } = valid;
    expect(
      loadConfig({ ...noUrl, REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'shop' })
        .redis?.topology,
    ).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'shop',
    });
  });

  it('takes the AUTH of cluster nodes, Sentinel-watched servers and sentinels from their variables', () => {
    const cluster = loadConfig({
      ...valid,
      REDIS_CLUSTER_NODES: 'r1:7000',
      REDIS_USERNAME: 'app',
      REDIS_PASSWORD: 'node-pass',
    }).redis?.topology;
    expect(cluster).toEqual({
      kind: 'cluster',
      nodes: [{ host: 'r1', port: 7000 }],
      auth: { username: 'app', password: 'node-pass' },
    });
    const sentinel = loadConfig({
      ...valid,
      REDIS_SENTINELS: 's1:26379',
      REDIS_SENTINEL_NAME: 'shop',
      REDIS_PASSWORD: 'node-pass',
      REDIS_SENTINEL_PASSWORD: 'sentinel-pass',
    }).redis?.topology;
    expect(sentinel).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }],
      name: 'shop',
      auth: { password: 'node-pass' },
      sentinelPassword: 'sentinel-pass',
    });
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

describe('subscribe-message configuration', () => {
  it('parses a template with its field mapping, state, page and rate', () => {
    const config = loadConfig({
      ...valid,
      WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID: 'Ab_12-cd',
      WECHAT_SUBSCRIBE_FIELDS_ORDER_PAID: ' thing1=productName, amount2=total,time3=time',
      WECHAT_SUBSCRIBE_STATE: 'trial',
      WECHAT_SUBSCRIBE_PAGE: 'pages/order/detail?id={orderId}',
      WECHAT_SUBSCRIBE_RATE_PER_MIN: '120',
    });
    expect(config.subscribe).toEqual({
      templates: {
        orderPaid: {
          templateId: 'Ab_12-cd',
          fields: [
            { key: 'thing1', type: 'thing', source: 'productName' },
            { key: 'amount2', type: 'amount', source: 'total' },
            { key: 'time3', type: 'time', source: 'time' },
          ],
        },
        orderShipped: undefined,
        orderRefunded: undefined,
        orderTimeout: undefined,
        afterSalesApproved: undefined,
        afterSalesRejected: undefined,
        afterSalesRefunded: undefined,
      },
      miniprogramState: 'trial',
      page: 'pages/order/detail?id={orderId}',
      ratePerMinute: 120,
    });
  });

  it('defaults to no templates, the formal version, no page and 600 a minute', () => {
    const { subscribe } = loadConfig(valid);
    expect(Object.values(subscribe.templates)).toEqual(Array(7).fill(undefined));
    expect(subscribe).toMatchObject({
      miniprogramState: 'formal',
      page: undefined,
      ratePerMinute: 600,
    });
  });

  it.each([
    ['thing1', '"thing1" is not keyword=source'],
    ['thing1=productName=x', 'is not keyword=source'],
    ['bogus1=productName', '"bogus1" is not a WeChat keyword'],
    ['thing=productName', '"thing" is not a WeChat keyword'],
    ['thing1=price', '"price" is not one of orderNo, productName'],
    ['amount1=productName', 'productName cannot be shown as amount (fits thing)'],
    ['phrase1=total', 'total cannot be shown as phrase'],
    ['thing1=productName,thing1=carrier', '"thing1" is listed twice'],
  ])('refuses the mapping %s at boot, naming the variable', (mapping, message) => {
    const error = errorOf({
      ...valid,
      WECHAT_SUBSCRIBE_TEMPLATE_ORDER_SHIPPED: 'tpl',
      WECHAT_SUBSCRIBE_FIELDS_ORDER_SHIPPED: mapping,
    });
    expect(error).toContain('Invalid configuration: WECHAT_SUBSCRIBE_FIELDS_ORDER_SHIPPED');
    expect(error).toContain(message);
  });

  it('needs the mapping with the template id, and the template id with the mapping', () => {
    expect(errorOf({ ...valid, WECHAT_SUBSCRIBE_TEMPLATE_ORDER_REFUNDED: 'tpl' })).toBe(
      'Invalid configuration: WECHAT_SUBSCRIBE_FIELDS_ORDER_REFUNDED is required when WECHAT_SUBSCRIBE_TEMPLATE_ORDER_REFUNDED is set',
    );
    expect(errorOf({ ...valid, WECHAT_SUBSCRIBE_FIELDS_ORDER_TIMEOUT: 'thing1=reason' })).toBe(
      'Invalid configuration: WECHAT_SUBSCRIBE_TEMPLATE_ORDER_TIMEOUT is required when WECHAT_SUBSCRIBE_FIELDS_ORDER_TIMEOUT is set',
    );
    expect(errorOf({ ...valid, WECHAT_SUBSCRIBE_TEMPLATE_AFTER_SALES_REJECTED: 'tpl' })).toBe(
      'Invalid configuration: WECHAT_SUBSCRIBE_FIELDS_AFTER_SALES_REJECTED is required when WECHAT_SUBSCRIBE_TEMPLATE_AFTER_SALES_REJECTED is set',
    );
  });

  it('refuses a template id, state or page WeChat would not take', () => {
    expect(errorOf({ ...valid, WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID: 'has space' })).toContain(
      'WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID must be a WeChat template id',
    );
    expect(errorOf({ ...valid, WECHAT_SUBSCRIBE_STATE: 'beta' })).toContain(
      'WECHAT_SUBSCRIBE_STATE',
    );
    expect(errorOf({ ...valid, WECHAT_SUBSCRIBE_PAGE: '/pages/x' })).toContain(
      'WECHAT_SUBSCRIBE_PAGE must not start with /',
    );
    expect(errorOf({ ...valid, WECHAT_SUBSCRIBE_PAGE: 'pages/详情' })).toContain(
      'WECHAT_SUBSCRIBE_PAGE',
    );
  });
});

describe('message-push configuration', () => {
  const key = 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C';

  it('is off without a token, and takes a token alone (plaintext) or with the 43-character key', () => {
    expect(loadConfig(valid).wechatPush).toBeUndefined();
    expect(loadConfig({ ...valid, WECHAT_PUSH_TOKEN: 'QDG6eK' }).wechatPush).toEqual({
      token: 'QDG6eK',
      aesKey: undefined,
      appId: 'wx123',
    });
    const push = loadConfig({
      ...valid,
      WECHAT_PUSH_TOKEN: 'QDG6eK',
      WECHAT_PUSH_AES_KEY: key,
    }).wechatPush;
    expect(push?.aesKey?.length).toBe(32);
    expect(push?.aesKey?.subarray(0, 30).toString('base64')).toBe(key.slice(0, 40));
  });

  it('refuses a key that is not 43 base64 characters, a key without token, a token WeChat would not take', () => {
    const withToken = { ...valid, WECHAT_PUSH_TOKEN: 'QDG6eK' };
    expect(errorOf({ ...withToken, WECHAT_PUSH_AES_KEY: `${key}=` })).toMatch(
      /^Invalid configuration: WECHAT_PUSH_AES_KEY must be the 43-character EncodingAESKey/,
    );
    expect(errorOf({ ...withToken, WECHAT_PUSH_AES_KEY: key.slice(1) })).toMatch(
      /WECHAT_PUSH_AES_KEY/,
    );
    expect(errorOf({ ...withToken, WECHAT_PUSH_AES_KEY: `${key.slice(1)}-` })).toMatch(
      /WECHAT_PUSH_AES_KEY/,
    );
    expect(errorOf({ ...valid, WECHAT_PUSH_AES_KEY: key })).toBe(
      'Invalid configuration: WECHAT_PUSH_TOKEN is required when WECHAT_PUSH_AES_KEY is set',
    );
    expect(errorOf({ ...valid, WECHAT_PUSH_TOKEN: 'to ken' })).toMatch(/WECHAT_PUSH_TOKEN/);
    expect(errorOf({ ...valid, WECHAT_PUSH_TOKEN: 'ab' })).toMatch(/WECHAT_PUSH_TOKEN/);
  });

  it('never puts the key into the error line', () => {
    const bad = `${key.slice(0, 42)}!`;
    expect(
      errorOf({ ...valid, WECHAT_PUSH_TOKEN: 'QDG6eK', WECHAT_PUSH_AES_KEY: bad }),
    ).not.toContain(bad);
  });
});
