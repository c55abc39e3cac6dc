import { z } from 'zod';

/**
 * Values a subscribe message can carry, filled from the order the event is
 * about: `orderNo` (the order id), `productName` (the first line's name,
 * "… 等N件" when there are more), `total` and `refund` (money),
 * `status` (已支付, 已发货, 已退款, 已取消), `reason` (why it was cancelled),
 * `time` (when the event happened, China time), `carrier` and `trackingNo`
 * (shipping; "-" when unknown).
 */
export const SUBSCRIBE_SOURCES = [
  'orderNo',
  'productName',
  'total',
  'refund',
  'status',
  'reason',
  'time',
  'carrier',
  'trackingNo',
] as const;
export type SubscribeSource = (typeof SUBSCRIBE_SOURCES)[number];

/** WeChat's template keyword types (the letters of `thing1`, `amount2`, …). */
export const KEYWORD_TYPES = [
  'thing',
  'phrase',
  'number',
  'letter',
  'symbol',
  'character_string',
  'amount',
  'date',
  'time',
  'name',
  'phone_number',
  'car_number',
] as const;
export type KeywordType = (typeof KEYWORD_TYPES)[number];

// What each source can be shown as without WeChat refusing it (47003): a
// product name is free text (thing), a money value an amount or a number, …
const FITS: Record<SubscribeSource, readonly KeywordType[]> = {
  orderNo: ['character_string', 'number', 'thing'],
  productName: ['thing'],
  total: ['amount', 'number', 'thing'],
  refund: ['amount', 'number', 'thing'],
  status: ['phrase', 'thing'],
  reason: ['thing', 'phrase'],
  time: ['date', 'time', 'thing'],
  carrier: ['thing'],
  trackingNo: ['character_string', 'thing'],
};

export interface SubscribeField {
  /** The template's keyword, e.g. `thing1`. */
  key: string;
  type: KeywordType;
  source: SubscribeSource;
}

const KEY = /^([a-z_]+?)(\d+)$/;

/**
 * `thing1=productName,amount2=total,time3=time`: the keywords of a template
 * and the source of each. Checked at boot, so a typo never reaches WeChat.
 */
export const subscribeFields = z
  .string()
  .optional()
  .transform((raw, ctx): SubscribeField[] | undefined => {
    if (raw === undefined || raw.trim() === '') return undefined;
    const fields: SubscribeField[] = [];
    for (const pair of raw.split(',').map((p) => p.trim())) {
      const [key, source, ...rest] = pair.split('=').map((s) => s.trim());
      const type = KEY.exec(key ?? '')?.[1] as KeywordType | undefined;
      const problem =
        rest.length > 0 || source === undefined
          ? `"${pair}" is not keyword=source`
          : !type || !KEYWORD_TYPES.includes(type)
            ? `"${key}" is not a WeChat keyword (thing1, amount2, …)`
            : !SUBSCRIBE_SOURCES.includes(source as SubscribeSource)
              ? `"${source}" is not one of ${SUBSCRIBE_SOURCES.join(', ')}`
              : !FITS[source as SubscribeSource].includes(type)
                ? `${source} cannot be shown as ${type} (fits ${FITS[source as SubscribeSource].join(', ')})`
                : fields.some((f) => f.key === key)
                  ? `"${key}" is listed twice`
                  : undefined;
      if (problem) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      fields.push({ key, type: type!, source: source as SubscribeSource });
    }
    return fields;
  });
