import type { FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { AppError } from '../errors/app-error.js';
import { wantsRawBody } from './raw-body.js';

/**
 * Deepest nesting of objects and arrays a JSON body may have. Our deepest DTO
 * is three levels (an order's items); 32 leaves room for any honest client.
 */
export const MAX_JSON_DEPTH = 32;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether `text` nests objects/arrays deeper than `max`, found in one pass
 * before JSON.parse runs: a 4 KB body of 2,000 `[` would otherwise overflow
 * the stack of every recursive walker after the parser (class-transformer,
 * class-validator) and answer 500.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** Parses a JSON body the way Fastify does, refusing bodies nested too deep. */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new AppError('VALIDATION_FAILED', 'empty JSON body');
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new AppError('VALIDATION_FAILED', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    // Fastify's own defaults: a `__proto__` or `constructor.prototype` key is refused.
    return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    throw new AppError('VALIDATION_FAILED', 'malformed JSON body');
  }
}

/**
 * The JSON body parser given to Nest's `useBodyParser` (which keeps Fastify's
 * body limit and content-type matching): parseJsonBody over the body's bytes,
 * except on @RawBody() routes, which get the Buffer itself.
 */
export function jsonBodyParser(
  request: FastifyRequest,
  body: Buffer,
  done: (err: Error | null, parsed?: unknown) => void,
): void {
  if (wantsRawBody(request)) {
    done(null, body);
    return;
  }
  try {
    done(null, parseJsonBody(body.toString('utf8')));
  } catch (err) {
    done(err as Error);
  }
}

/**
 * XML bodies: only @RawBody() routes take them (the WeChat push route, as
 * raw bytes); everywhere else an XML body is a 415, like any non-JSON one.
 */
export function rawXmlBodyParser(
  request: FastifyRequest,
  body: Buffer,
  done: (err: Error | null, parsed?: unknown) => void,
): void {
  if (wantsRawBody(request)) {
    done(null, body);
    return;
  }
  done(new AppError('UNSUPPORTED_MEDIA_TYPE', 'request bodies are application/json'));
}
