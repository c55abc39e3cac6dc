export { SessionStore } from './session-store.js';
export { sessionStoreUnavailable } from './session-store.js';
export type { SessionRecord, RotateResult } from './session-store.js';
export { RedisSessionStore } from './redis-session.store.js';
export { MemorySessionStore } from './memory-session.store.js';
export { SessionLiveness } from './session-liveness.js';
