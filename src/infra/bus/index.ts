export { BusModule } from './bus.module.js';
export { MessageBus } from './message-bus.js';
export type { BusHandler } from './message-bus.js';
