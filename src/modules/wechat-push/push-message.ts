import { createHash } from 'node:crypto';
import secureJson from 'secure-json-parse';
import { nestsDeeperThan } from '../../common/http/index.js';
import { PushMalformed } from './push-malformed.js';
import { parsePushXml } from './push-xml.js';

export type PushFormat = 'json' | 'xml';

/** One message as WeChat sent it (decrypted in safe mode): JSON fields or XML elements. */
export type PushFields = Record<string, unknown>;

/** What every stored message is known by. */
export interface PushMessage {
  /** `msg:<MsgId>` or `evt:<sha256>`; unique per WeChat message (see dedupKeyOf). */
  dedupKey: string;
  msgType: string;
  /** `Event` of an event message, else the MsgType (`text`, `image`, …). */
  name: string;
  fromUser: string | null;
  createTime: number | null;
  fields: PushFields;
}

const LIMITS = {
  FromUserName: 64,
  ToUserName: 64,
  MsgType: 32,
  Event: 64,
  MsgId: 64,
  CreateTime: 12,
};
const CREATE_TIME = /^\d{1,12}$/;
/** WeChat's messages nest two or three levels; the XML parser stops at the same depth. */
const MAX_DEPTH = 16;

/** The body's format, from its first character: WeChat sends one format per configuration. */
export function parsePushBody(text: string): { format: PushFormat; fields: PushFields } {
  const start = text.trimStart()[0];
  if (start === '{') {
    // Before any recursive walk (the dedup key's) could overflow the stack.
    if (nestsDeeperThan(text, MAX_DEPTH)) throw new PushMalformed('JSON nested too deep');
    let parsed: unknown;
    try {
      parsed = secureJson.parse(text, undefined, {
        protoAction: 'error',
        constructorAction: 'error',
      });
    } catch {
      throw new PushMalformed('malformed JSON body');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new PushMalformed('the JSON body is not an object');
    }
    return { format: 'json', fields: parsed as PushFields };
  }
  if (start === '<') {
    // A plain object (the parser's have no prototype), as JSON.stringify writes it.
    return { format: 'xml', fields: JSON.parse(JSON.stringify(parsePushXml(text))) as PushFields };
  }
  throw new PushMalformed('the body is neither JSON nor XML');
}

function text(fields: PushFields, name: keyof typeof LIMITS): string | null {
  const value = fields[name];
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new PushMalformed(`${name} is not text`);
  }
  const s = String(value);
  if (s.length > LIMITS[name]) throw new PushMalformed(`${name} is too long`);
  return s;
}

/**
 * Object keys sorted at every level and every scalar as text (XML has no
 * numbers): one message, one text, whatever the key order or the format.
 */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  const scalar =
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
  return JSON.stringify(scalar ? String(value) : '');
}

/**
 * WeChat's own dedup rule: a message by its MsgId, an event by FromUserName
 * + CreateTime (+ Event). Events of the order-shipping service all come from
 * one system sender, so two orders settled in the same second would share
 * that key: the rest of the message is hashed in too. A retry repeats the
 * whole message, so it still finds the same key.
 */
function dedupKeyOf(fields: PushFields, msgId: string | null): string {
  if (msgId) return `msg:${msgId}`;
  return `evt:${createHash('sha256').update(canonical(fields)).digest('hex')}`;
}

export function toPushMessage(fields: PushFields): PushMessage {
  const msgType = text(fields, 'MsgType');
  if (!msgType) throw new PushMalformed('MsgType is missing');
  const event = text(fields, 'Event');
  const createTime = text(fields, 'CreateTime');
  if (createTime !== null && !CREATE_TIME.test(createTime)) {
    throw new PushMalformed('CreateTime is not a time');
  }
  text(fields, 'ToUserName');
  return {
    dedupKey: dedupKeyOf(fields, text(fields, 'MsgId')),
    msgType,
    name: msgType === 'event' && event ? event : msgType,
    fromUser: text(fields, 'FromUserName'),
    createTime: createTime === null ? null : Number(createTime),
    fields,
  };
}
