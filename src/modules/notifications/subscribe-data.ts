import type { KeywordType, SubscribeField } from '../../config/index.js';

/** What a subscribe message can tell about an order event. */
export interface MessageFacts {
  orderId: number;
  /** The order's line names, in line order. */
  productNames: string[];
  totalCents: number;
  refundCents: number;
  /** 已支付, 已发货, … */
  status: string;
  /** Why the order was cancelled (超时未支付), or null. */
  reason: string | null;
  /** When the event happened. */
  at: Date;
  carrier: string | null;
  trackingNo: string | null;
}

// WeChat's limits per keyword type, in characters (code points); a longer
// value is refused with 47003, so every value is cut to fit first.
const MAX_LENGTH: Record<KeywordType, number> = {
  thing: 20,
  phrase: 5,
  number: 32,
  letter: 32,
  symbol: 5,
  character_string: 32,
  amount: 16,
  date: 32,
  time: 32,
  name: 10,
  phone_number: 17,
  car_number: 8,
};

// What each type may hold; anything else is dropped rather than sent.
const ALLOWED: Partial<Record<KeywordType, RegExp>> = {
  number: /[^0-9.]/g,
  letter: /[^A-Za-z]/g,
  character_string: /[^\x21-\x7e]/g,
  phone_number: /[^0-9+-]/g,
};

// WeChat refuses an empty value (47003): what an unknown value shows instead.
const EMPTY: Partial<Record<KeywordType, string>> = { number: '0', phrase: '无', letter: 'N' };

// China has one time zone and no daylight saving: UTC+8.
const CHINA_OFFSET_MS = 8 * 3_600_000;

/** Cuts to `max` code points (never half a surrogate pair); `…` marks a cut thing. */
function cut(text: string, max: number, mark: boolean): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return mark ? `${chars.slice(0, max - 1).join('')}…` : chars.slice(0, max).join('');
}

/** A value made to fit its keyword type: only allowed characters, within the limit, never empty. */
export function fit(type: KeywordType, value: string): string {
  const allowed = ALLOWED[type];
  const clean = (allowed ? value.replace(allowed, '') : value).trim();
  const fitted = cut(clean, MAX_LENGTH[type], type === 'thing');
  return fitted.length > 0 ? fitted : (EMPTY[type] ?? '-');
}

function money(cents: number, type: KeywordType): string {
  const yuan = (cents / 100).toFixed(2);
  if (type === 'amount') return `¥${yuan}`;
  return type === 'number' ? yuan : `${yuan}元`;
}

function chinaTime(at: Date, type: KeywordType): string {
  const t = new Date(at.getTime() + CHINA_OFFSET_MS);
  const hm = `${String(t.getUTCHours()).padStart(2, '0')}:${String(t.getUTCMinutes()).padStart(2, '0')}`;
  if (type === 'thing') {
    const month = String(t.getUTCMonth() + 1).padStart(2, '0');
    const day = String(t.getUTCDate()).padStart(2, '0');
    return `${t.getUTCFullYear()}-${month}-${day} ${hm}`;
  }
  // Both `date` and `time` keywords take "2019年10月1日 15:01".
  return `${t.getUTCFullYear()}年${t.getUTCMonth() + 1}月${t.getUTCDate()}日 ${hm}`;
}

function productName(names: string[]): string {
  const suffix = names.length > 1 ? ` 等${names.length}件` : '';
  // The count stays readable: the name is cut to leave room for it.
  return `${cut(names[0] ?? '', MAX_LENGTH.thing - Array.from(suffix).length, true)}${suffix}`;
}

function value(field: SubscribeField, facts: MessageFacts): string {
  switch (field.source) {
    case 'orderNo':
      return String(facts.orderId);
    case 'productName':
      return productName(facts.productNames);
    case 'total':
      return money(facts.totalCents, field.type);
    case 'refund':
      return money(facts.refundCents, field.type);
    case 'status':
      return facts.status;
    case 'reason':
      return facts.reason ?? '-';
    case 'time':
      return chinaTime(facts.at, field.type);
    case 'carrier':
      return facts.carrier ?? '-';
    case 'trackingNo':
      return facts.trackingNo ?? '-';
  }
}

/** The `data` of a subscribe message: each configured keyword with its value, cut to fit. */
export function subscribeData(
  fields: readonly SubscribeField[],
  facts: MessageFacts,
): Record<string, string> {
  return Object.fromEntries(fields.map((f) => [f.key, fit(f.type, value(f, facts))]));
}
