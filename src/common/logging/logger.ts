import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear in a log object. The values that
 * must never reach a log line (docs/http-api.md): credentials, tokens, WeChat's
 * session_key and secret, and the encrypted user data.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'session_key',
  '*.session_key',
  'sessionKey',
  '*.sessionKey',
  'secret',
  '*.secret',
  'encryptedData',
  '*.encryptedData',
  'iv',
  '*.iv',
  'password',
  '*.password',
];

/**
 * `fields`, when given, adds to every line the fields it returns (the trace
 * and span ids of the active span); without it lines cost nothing more.
 */
export function createLogger(
  level: string,
  destination?: DestinationStream,
  fields?: () => object | undefined,
): Logger {
  return pino(
    {
      level,
      base: undefined,
      messageKey: 'message',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      mixin: fields && (() => fields() ?? {}),
    },
    destination,
  );
}

/** Routes Nest's own log calls into the same JSON lines as Fastify's. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, _trace?: string, context?: string): void {
    // The trace argument is a stack: never logged.
    this.logger.error({ context }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
  fatal(message: unknown, context?: string): void {
    this.logger.fatal({ context }, String(message));
  }
}
