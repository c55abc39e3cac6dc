import { PushMalformed } from './push-malformed.js';
import { parsePushBody, toPushMessage } from './push-message.js';

const settlement = {
  ToUserName: 'gh_1',
  FromUserName: 'o-system',
  CreateTime: 1700000000,
  MsgType: 'event',
  Event: 'trade_manage_order_settlement',
  merchant_trade_no: 'MP0000000001',
};
const xml = (fields: Record<string, string | number>) =>
  `<xml>${Object.entries(fields)
    .map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`)
    .join('')}</xml>`;
const keyOf = (body: string) => toPushMessage(parsePushBody(body).fields).dedupKey;

describe('push messages', () => {
  it('names an event by its Event and another message by its MsgType', () => {
    expect(toPushMessage(settlement)).toMatchObject({
      msgType: 'event',
      name: 'trade_manage_order_settlement',
      fromUser: 'o-system',
      createTime: 1700000000,
    });
    expect(toPushMessage({ MsgType: 'text', Content: 'hi', MsgId: 42 }).name).toBe('text');
  });

  it('gives one message one key, whatever its key order or format', () => {
    const reordered = Object.fromEntries(Object.entries(settlement).reverse());
    expect(keyOf(JSON.stringify(reordered))).toBe(keyOf(JSON.stringify(settlement)));
    expect(keyOf(xml(settlement))).toBe(keyOf(JSON.stringify(settlement)));
  });

  it('keeps apart events of one sender and second that differ elsewhere', () => {
    const other = { ...settlement, merchant_trade_no: 'MP0000000002' };
    expect(keyOf(JSON.stringify(other))).not.toBe(keyOf(JSON.stringify(settlement)));
  });

  it('keys a message with a MsgId on it alone', () => {
    expect(toPushMessage({ MsgType: 'text', MsgId: '123', CreateTime: 1 }).dedupKey).toBe(
      'msg:123',
    );
  });

  it.each([
    ['no MsgType', { FromUserName: 'o' }],
    ['an object MsgType', { MsgType: { a: 1 } }],
    ['an over-long FromUserName', { MsgType: 'event', FromUserName: 'o'.repeat(65) }],
    ['a CreateTime that is not a time', { MsgType: 'event', CreateTime: '1e9' }],
  ])('refuses %s', (_name, fields) => {
    expect(() => toPushMessage(fields)).toThrow(PushMalformed);
  });

  it.each([
    ['form data', 'a=1&b=2'],
    ['a JSON array', '[1,2]'],
    ['malformed JSON', '{"a":'],
    ['a prototype key', '{"__proto__":{"x":1}}'],
    ['JSON nested past 16 levels', `{"a":${'['.repeat(30_000)}${']'.repeat(30_000)}}`],
  ])('refuses a body of %s', (_name, body) => {
    expect(() => parsePushBody(body)).toThrow(PushMalformed);
  });
});
