export { ThrottleModule } from './throttle.module.js';
export { ThrottleAs } from './throttle.decorators.js';
export { ThrottleIdentity } from './throttle-identity.js';
export { DeferredHit, FoldedHit } from './deferred-hit.js';
export { THROTTLE_STEP_LUA, stepOf } from './redis-throttle-counter.js';
export { SkipThrottle } from '@nestjs/throttler';
export { SKIP_DEFAULT } from './cluster-throttler.guard.js';
