export { LifecycleModule } from './lifecycle.module.js';
export { ShutdownState } from './shutdown-state.js';
export { installGracefulShutdown } from './graceful-shutdown.js';
export { closingResponses, type ClosingResponses } from './closing-response.js';
