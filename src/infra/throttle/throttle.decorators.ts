import { applyDecorators, SetMetadata } from '@nestjs/common';
import type { ThrottleName } from '../../config/index.js';

export const THROTTLE_AS = 'throttle:as';
export const THROTTLE_FOLDED = 'throttle:folded';

export interface ThrottleAsOptions {
  /**
   * The handler counts a signed-in request's hit in its own Redis call
   * (`@FoldedHit()`, deferred-hit.ts) and settles it before answering; the
   * guard counts it only where it cannot share that call.
   */
  folded?: boolean;
}

/**
 * Counts the route against a named, stricter limit (`login` per IP, `orders`
 * and `flash` per user) instead of the default one, so a request costs one counter.
 */
export const ThrottleAs = (
  name: Exclude<ThrottleName, 'default'>,
  options: ThrottleAsOptions = {},
) =>
  options.folded
    ? applyDecorators(SetMetadata(THROTTLE_AS, name), SetMetadata(THROTTLE_FOLDED, true))
    : SetMetadata(THROTTLE_AS, name);
