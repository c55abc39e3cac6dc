import { SetMetadata } from '@nestjs/common';
import type { ThrottleName } from '../../config/index.js';

export const THROTTLE_AS = 'throttle:as';

/**
 * Counts the route against a named, stricter limit (`login` per IP, `orders`
 * and `flash` per user) instead of the default one, so a request costs one counter.
 */
export const ThrottleAs = (name: Exclude<ThrottleName, 'default'>) =>
  SetMetadata(THROTTLE_AS, name);
