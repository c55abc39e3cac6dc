import { PushMalformed } from './push-malformed.js';
import { parsePushXml } from './push-xml.js';

describe('parsePushXml', () => {
  it("reads WeChat's XML: CDATA and text leaves, nested lists, repeats as arrays", () => {
    const xml = `<?xml version="1.0"?>
      <xml>
        <ToUserName><![CDATA[gh_123]]></ToUserName>
        <CreateTime>1610969440</CreateTime>
        <Event><![CDATA[subscribe_msg_popup_event]]></Event>
        <SubscribeMsgPopupEvent>
          <List><TemplateId><![CDATA[t1]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString></List>
          <List><TemplateId><![CDATA[t2]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString></List>
        </SubscribeMsgPopupEvent>
        <Note>a &lt;b&gt; &amp; &#x4e2d;&#25991;</Note>
        <Empty/>
      </xml>`;
    expect(JSON.parse(JSON.stringify(parsePushXml(xml)))).toEqual({
      ToUserName: 'gh_123',
      CreateTime: '1610969440',
      Event: 'subscribe_msg_popup_event',
      SubscribeMsgPopupEvent: {
        List: [
          { TemplateId: 't1', SubscribeStatusString: 'accept' },
          { TemplateId: 't2', SubscribeStatusString: 'reject' },
        ],
      },
      Note: 'a <b> & 中文',
      Empty: '',
    });
  });

  it('keeps CDATA text as it is (no entity inside is decoded)', () => {
    expect(parsePushXml('<xml><A><![CDATA[&amp; <x>]]></A></xml>').A).toBe('&amp; <x>');
  });

  it.each([
    [
      'an external entity',
      '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><A>&x;</A></xml>',
    ],
    [
      'entity expansion (billion laughs)',
      '<!DOCTYPE xml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml><A>&b;</A></xml>',
    ],
    ['a DOCTYPE inside the root', '<xml><!DOCTYPE x><A>1</A></xml>'],
    ['an undeclared entity', '<xml><A>&x;</A></xml>'],
    ['a bare ampersand', '<xml><A>a & b</A></xml>'],
    ['a prototype key', '<xml><__proto__><A>1</A></__proto__></xml>'],
    ['a constructor key', '<xml><constructor>1</constructor></xml>'],
    ['mismatched tags', '<xml><A>1</B></xml>'],
    ['an unterminated element', '<xml><A>1</A>'],
    ['content after the root', '<xml><A>1</A></xml><xml/>'],
    ['another root', '<root><A>1</A></root>'],
    ['mixed text and elements', '<xml>text<A>1</A></xml>'],
    ['nesting past 16 levels', `<xml>${'<a>'.repeat(20)}1${'</a>'.repeat(20)}</xml>`],
    ['a character reference out of range', '<xml><A>&#x110000;</A></xml>'],
    ['unterminated CDATA', '<xml><A><![CDATA[x</A></xml>'],
  ])('refuses %s', (_name, xml) => {
    expect(() => parsePushXml(xml)).toThrow(PushMalformed);
  });
});
