export { createLogger, PinoNestLogger, REDACTED_PATHS } from './logger.js';
export { lazyChildLogger } from './lazy-child-logger.js';
