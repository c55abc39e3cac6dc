export { ThrottleModule } from './throttle.module.js';
export { ThrottleAs } from './throttle.decorators.js';
export { ThrottleIdentity } from './throttle-identity.js';
export { SkipThrottle } from '@nestjs/throttler';
export { SKIP_DEFAULT } from './cluster-throttler.guard.js';
