/**
 * Injection token of the shared ioredis client, or `null` when REDIS_URL is
 * unset and every Redis-backed store runs in process (embedded mode).
 * Keys are prefixed with REDIS_KEY_PREFIX by the client itself.
 */
export const REDIS = Symbol('REDIS');
