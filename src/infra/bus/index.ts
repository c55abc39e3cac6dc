export { BusModule } from './bus.module.js';
export { MessageBus } from './message-bus.js';
export type { BusHandler } from './message-bus.js';
export { MemoryMessageBus } from './memory-message-bus.js';
export { RedisMessageBus } from './redis-message-bus.js';
