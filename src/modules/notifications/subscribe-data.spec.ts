import type { SubscribeField } from '../../config/index.js';
import { fit, subscribeData, type MessageFacts } from './subscribe-data.js';

const facts: MessageFacts = {
  orderId: 1042,
  productNames: ['云南勐海七子饼茶普洱熟茶357克礼盒装特级'],
  totalCents: 123456,
  refundCents: 500,
  status: '已支付',
  reason: null,
  // 2026-12-01 23:58 UTC is 07:58 on 2 December in China.
  at: new Date('2026-12-01T23:58:30Z'),
  carrier: null,
  trackingNo: 'SF 1234-5678/中文',
};

const field = (key: string, source: SubscribeField['source']): SubscribeField => ({
  key,
  type: /^([a-z_]+?)\d+$/.exec(key)![1] as SubscribeField['type'],
  source,
});

describe('subscribeData', () => {
  it('maps each keyword to its source, in the format of its type', () => {
    expect(
      subscribeData(
        [
          field('character_string1', 'orderNo'),
          field('amount2', 'total'),
          field('number3', 'refund'),
          field('thing4', 'total'),
          field('date5', 'time'),
          field('time6', 'time'),
          field('thing7', 'time'),
          field('phrase8', 'status'),
        ],
        facts,
      ),
    ).toEqual({
      character_string1: '1042',
      amount2: '¥1234.56',
      number3: '5.00',
      thing4: '1234.56元',
      date5: '2026年12月2日 07:58',
      time6: '2026年12月2日 07:58',
      thing7: '2026-12-02 07:58',
      phrase8: '已支付',
    });
  });

  it('cuts a long product name to 20 characters with … and keeps the item count', () => {
    const one = subscribeData([field('thing1', 'productName')], facts).thing1;
    expect(Array.from(one)).toHaveLength(20);
    expect(one).toBe('云南勐海七子饼茶普洱熟茶357克礼盒装…');
    const two = subscribeData([field('thing1', 'productName')], {
      ...facts,
      productNames: ['云南勐海七子饼茶普洱熟茶357克礼盒装特级', '乌龙'],
    }).thing1;
    expect(two).toBe('云南勐海七子饼茶普洱熟茶357… 等2件');
    expect(Array.from(two)).toHaveLength(20);
  });

  it('fills unknown values with "-" so WeChat never gets an empty one', () => {
    expect(subscribeData([field('thing1', 'carrier'), field('thing2', 'reason')], facts)).toEqual({
      thing1: '-',
      thing2: '-',
    });
  });

  it('keeps only the characters a character_string may hold', () => {
    expect(subscribeData([field('character_string1', 'trackingNo')], facts)).toEqual({
      character_string1: 'SF1234-5678/',
    });
  });
});

describe('fit', () => {
  it.each([
    ['thing', 'a'.repeat(25), `${'a'.repeat(19)}…`],
    ['phrase', '超时未支付订单', '超时未支付'],
    ['number', `12.5${'9'.repeat(40)}`, `12.5${'9'.repeat(28)}`],
    ['character_string', 'x'.repeat(40), 'x'.repeat(32)],
    ['letter', 'ab1cD', 'abcD'],
    ['symbol', '!!!!!!!', '!!!!!'],
    ['name', '欧阳一二三四五六七八九', '欧阳一二三四五六七八'],
    ['car_number', '粤B123456789', '粤B123456'],
    ['phone_number', '+86 138-0013-8000', '+86138-0013-8000'],
    ['number', 'abc', '0'],
    ['phrase', '', '无'],
  ] as const)('%s: %s → %s', (type, value, expected) => {
    expect(fit(type, value)).toBe(expected);
  });

  it('never splits a character made of two UTF-16 units', () => {
    expect(fit('thing', `${'a'.repeat(18)}😀😀😀`)).toBe(`${'a'.repeat(18)}😀…`);
  });
});
