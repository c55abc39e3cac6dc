export { createLogger, PinoNestLogger, REDACTED_PATHS } from './logger.js';
