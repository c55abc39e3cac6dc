import { PushMalformed } from './push-malformed.js';

/** A parsed element: text for a leaf, an object of children (repeats as arrays) otherwise. */
export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
  [name: string]: XmlValue;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 16;
const ENTITIES = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['quot', '"'],
  ['apos', "'"],
]);

/**
 * A strict parser for the small XML WeChat pushes (`<xml>` with CDATA
 * leaves and a few nested lists). It has no DTD support at all: a DOCTYPE
 * or entity declaration is refused, so no external entity is ever fetched
 * and no entity expands (XXE, billion laughs). Only the five predefined
 * entities and character references are decoded; attributes are ignored.
 */
export function parsePushXml(text: string): XmlObject {
  return new Parser(text).document();
}

class Parser {
  private i = 0;

  constructor(private readonly s: string) {}

  document(): XmlObject {
    this.misc();
    if (this.s.startsWith('<?xml', this.i)) {
      const end = this.s.indexOf('?>', this.i);
      if (end < 0) throw new PushMalformed('unterminated XML declaration');
      this.i = end + 2;
    }
    this.misc();
    const [name, value] = this.element(0);
    this.misc();
    if (this.i !== this.s.length) throw new PushMalformed('content after the root element');
    if (name !== 'xml') throw new PushMalformed('the root element is not <xml>');
    if (typeof value === 'string') {
      if (value.trim() !== '') throw new PushMalformed('the root element holds text');
      return Object.create(null) as XmlObject;
    }
    return value as XmlObject;
  }

  /** Whitespace and comments; a DOCTYPE or any other declaration is refused. */
  private misc(): void {
    for (;;) {
      while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
      if (this.s.startsWith('<!--', this.i)) {
        const end = this.s.indexOf('-->', this.i + 4);
        if (end < 0) throw new PushMalformed('unterminated comment');
        this.i = end + 3;
      } else if (this.s.startsWith('<!', this.i) && !this.s.startsWith('<![CDATA[', this.i)) {
        throw new PushMalformed('DOCTYPE and entity declarations are not accepted');
      } else {
        return;
      }
    }
  }

  private element(depth: number): [string, XmlValue] {
    if (depth > MAX_DEPTH) throw new PushMalformed('XML nested too deep');
    if (this.s[this.i] !== '<') throw new PushMalformed('expected an element');
    const close = this.s.indexOf('>', this.i);
    if (close < 0) throw new PushMalformed('unterminated tag');
    let tag = this.s.slice(this.i + 1, close);
    this.i = close + 1;
    const selfClosing = tag.endsWith('/');
    if (selfClosing) tag = tag.slice(0, -1);
    const name = tag.trim().split(/\s/, 1)[0];
    if (!NAME.test(name) || FORBIDDEN_NAMES.has(name)) {
      throw new PushMalformed('bad element name');
    }
    if (selfClosing) return [name, ''];
    let text = '';
    let children: XmlObject | undefined;
    for (;;) {
      if (this.i >= this.s.length) throw new PushMalformed(`unterminated <${name}>`);
      if (this.s.startsWith('</', this.i)) {
        const end = this.s.indexOf('>', this.i);
        if (end < 0 || this.s.slice(this.i + 2, end).trim() !== name) {
          throw new PushMalformed(`mismatched end of <${name}>`);
        }
        this.i = end + 1;
        break;
      }
      if (this.s.startsWith('<![CDATA[', this.i)) {
        const end = this.s.indexOf(']]>', this.i + 9);
        if (end < 0) throw new PushMalformed('unterminated CDATA');
        text += this.s.slice(this.i + 9, end);
        this.i = end + 3;
      } else if (this.s.startsWith('<!--', this.i) || this.s.startsWith('<!', this.i)) {
        this.misc();
      } else if (this.s[this.i] === '<') {
        const [childName, value] = this.element(depth + 1);
        children ??= Object.create(null) as XmlObject;
        const existing = children[childName];
        if (existing === undefined) children[childName] = value;
        else if (Array.isArray(existing)) existing.push(value);
        else children[childName] = [existing, value];
      } else {
        const next = this.s.indexOf('<', this.i);
        const end = next < 0 ? this.s.length : next;
        text += decodeText(this.s.slice(this.i, end));
        this.i = end;
      }
    }
    if (children) {
      if (text.trim() !== '') throw new PushMalformed(`<${name}> mixes text and elements`);
      return [name, children];
    }
    return [name, text];
  }
}

function decodeText(raw: string): string {
  if (/&(?![^;&\s]{1,10};)/.test(raw)) throw new PushMalformed('bare & in text');
  return raw.replace(/&([^;&\s]{1,10});/g, (_all, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      if (!Number.isInteger(code) || code < 1 || code > 0x10ffff) {
        throw new PushMalformed('bad character reference');
      }
      return String.fromCodePoint(code);
    }
    const value = ENTITIES.get(ref);
    if (value === undefined) throw new PushMalformed('unknown entity');
    return value;
  });
}
