import { ConfigError, loadConfig } from './app-config.js';

const valid = {
  NODE_ENV: 'test',
  DATABASE_URL: 'mysql://app@db:3306/shop',
  JWT_SECRET: 'x'.repeat(32),
  WECHAT_APPID: 'wx123',
  WECHAT_SECRET: 'topsecret',
};

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig({ ...valid, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected loadConfig to fail');
}

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
      },
      miniprogramState: 'trial',
      page: 'pages/order/detail?id={orderId}',
      ratePerMinute: 120,
    });
  });

  it('defaults to no templates, the formal version, no page and 600 a minute', () => {
    const { subscribe } = loadConfig(valid);
    expect(Object.values(subscribe.templates)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
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
      WECHAT_SUBSCRIBE_TEMPLATE_ORDER_SHIPPED: 'tpl',
      WECHAT_SUBSCRIBE_FIELDS_ORDER_SHIPPED: mapping,
    });
    expect(error).toContain('Invalid configuration: WECHAT_SUBSCRIBE_FIELDS_ORDER_SHIPPED');
    expect(error).toContain(message);
  });

  it('needs the mapping with the template id, and the template id with the mapping', () => {
    expect(errorOf({ WECHAT_SUBSCRIBE_TEMPLATE_ORDER_REFUNDED: 'tpl' })).toBe(
      'Invalid configuration: WECHAT_SUBSCRIBE_FIELDS_ORDER_REFUNDED is required when WECHAT_SUBSCRIBE_TEMPLATE_ORDER_REFUNDED is set',
    );
    expect(errorOf({ WECHAT_SUBSCRIBE_FIELDS_ORDER_TIMEOUT: 'thing1=reason' })).toBe(
      'Invalid configuration: WECHAT_SUBSCRIBE_TEMPLATE_ORDER_TIMEOUT is required when WECHAT_SUBSCRIBE_FIELDS_ORDER_TIMEOUT is set',
    );
  });

  it('refuses a template id, state or page WeChat would not take', () => {
    expect(errorOf({ WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID: 'has space' })).toContain(
      'WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID must be a WeChat template id',
    );
    expect(errorOf({ WECHAT_SUBSCRIBE_STATE: 'beta' })).toContain('WECHAT_SUBSCRIBE_STATE');
    expect(errorOf({ WECHAT_SUBSCRIBE_PAGE: '/pages/x' })).toContain(
      'WECHAT_SUBSCRIBE_PAGE must not start with /',
    );
    expect(errorOf({ WECHAT_SUBSCRIBE_PAGE: 'pages/详情' })).toContain('WECHAT_SUBSCRIBE_PAGE');
  });
});
