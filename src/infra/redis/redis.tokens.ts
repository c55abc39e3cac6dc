/**
 * Injection token of the shared ioredis client, or `null` when REDIS_URL is
 * unset and every Redis-backed store runs in process (embedded mode).
 * Keys are prefixed with REDIS_KEY_PREFIX by the client itself.
 */
export const REDIS = Symbol('REDIS');

/** Injection token of the RedisGate on that client, or `null` without Redis. */
export const REDIS_GATE = Symbol('REDIS_GATE');
