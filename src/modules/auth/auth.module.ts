import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { MessageBus } from '../../infra/bus/index.js';
import { REDIS, REDIS_GATE, type RedisClient, type RedisGate } from '../../infra/redis/index.js';
import { ThrottleIdentity } from '../../infra/throttle/index.js';
import { UsersModule, UsersService } from '../users/index.js';
import { WechatModule } from '../wechat/index.js';
import { AccessTokenIdentity } from './access-token-identity.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { ConsoleCookieHook } from './console/console-cookie.hook.js';
import { ConsoleLoginController } from './console/console-login.controller.js';
import { ConsoleLogins } from './console/console-login.service.js';
import { ConsoleSessions } from './console/console-sessions.js';
import { ConsoleStore } from './console/console-store.js';
import { MemoryConsoleStore } from './console/memory-console.store.js';
import { RedisConsoleStore } from './console/redis-console.store.js';
import {
  MemorySessionStore,
  RedisSessionStore,
  SessionLiveness,
  SessionStore,
} from './sessions/index.js';
import { AccessTokens, RefreshTokenSuccessor, SessionKeyCipher } from './tokens/index.js';

// Behind Sentinel, how long a session write waits for a replica's WAIT
// acknowledgement before the request answers 503 (loopback replication takes
// well under a millisecond; a replica this far behind is as good as gone).
const SESSION_REPLICA_ACK_MS = 500;
// A "live" answer is re-checked after this even if a revocation message was
// lost; bus messages make revocation effective at once on every replica.
const SESSION_LIVE_TTL_MS = 5_000;
// ~0.6 KB of heap per entry: with the cache's L1 and the verified-token map,
// a replica's in-process state stays under ~60 MB, inside the image's heap
// limit (docker/Dockerfile).
const SESSION_L1_MAX_ENTRIES = 50_000;
// While Redis is down, a session this replica saw live this recently is still
// admitted: no revocation can happen or propagate during the outage anyway
// (logout needs Redis, and so does the bus), so refusing would only turn a
// Redis outage into a total one for signed-in users. Ten minutes rides out a
// failover or restart; sessions not seen recently still get 503.
const OUTAGE_GRACE_MS = 600_000;

/**
 * WeChat login, tokens and sessions, the staff console's sign-in by scan and
 * its cookie sessions (docs/console.md), and the global guard that enforces
 * the @Authenticated()/@Roles() contract of src/common/auth (a bearer token,
 * or the console's cookie). Global so that the
 * throttle guard finds the ThrottleIdentity it provides.
 */
@Global()
@Module({
  imports: [UsersModule, WechatModule],
  controllers: [AuthController, ConsoleLoginController],
  providers: [
    {
      provide: SessionStore,
      inject: [REDIS, REDIS_GATE, APP_CONFIG],
      useFactory: (redis: RedisClient | null, gate: RedisGate | null, config: AppConfig) =>
        redis && gate
          ? new RedisSessionStore(
              redis,
              {
                // Below the command timeout, so that WAIT answers before ioredis gives up.
                replicaAckMs:
                  config.redis?.topology.kind === 'sentinel'
                    ? Math.min(
                        SESSION_REPLICA_ACK_MS,
                        Math.floor(config.redis.commandTimeoutMs / 2),
                      )
                    : undefined,
              },
              gate,
            )
          : new MemorySessionStore(),
    },
    {
      provide: SessionLiveness,
      inject: [SessionStore, MessageBus, APP_CONFIG],
      useFactory: (store: SessionStore, bus: MessageBus, config: AppConfig) =>
        new SessionLiveness(store, bus, {
          liveTtlMs: SESSION_LIVE_TTL_MS,
          revokedTtlMs: config.jwt.accessTtl * 1000,
          outageGraceMs: OUTAGE_GRACE_MS,
          maxEntries: SESSION_L1_MAX_ENTRIES,
        }),
    },
    {
      provide: AccessTokens,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new AccessTokens(config.jwt.secret, config.jwt.accessTtl, config.jwt.previousSecrets),
    },
    {
      provide: SessionKeyCipher,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new SessionKeyCipher(config.jwt.secret, config.jwt.previousSecrets),
    },
    {
      // Successors under the current secret only: a repeat that reaches a
      // replica still on the previous secret during a rotation gets 409.
      provide: RefreshTokenSuccessor,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new RefreshTokenSuccessor(config.jwt.secret),
    },
    {
      provide: ConsoleStore,
      inject: [REDIS],
      useFactory: (redis: RedisClient | null) =>
        redis ? new RedisConsoleStore(redis) : new MemoryConsoleStore(),
    },
    {
      // A console session lives at most as long as a staff session can (the refresh TTL).
      provide: ConsoleSessions,
      inject: [ConsoleStore, SessionLiveness, UsersService, APP_CONFIG],
      useFactory: (
        store: ConsoleStore,
        liveness: SessionLiveness,
        users: UsersService,
        config: AppConfig,
      ) => new ConsoleSessions(store, liveness, users, config.jwt.refreshTtl),
    },
    ConsoleLogins,
    ConsoleCookieHook,
    AuthService,
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: ThrottleIdentity, useClass: AccessTokenIdentity },
  ],
  exports: [ThrottleIdentity],
})
export class AuthModule {}
