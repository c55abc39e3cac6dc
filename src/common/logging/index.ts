export { createLogger, PinoNestLogger } from './logger.js';
export { lazyChildLogger } from './lazy-child-logger.js';
