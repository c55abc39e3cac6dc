import { DeadlineExceededError } from '../../../common/errors/index.js';
import { RedisGate, type RedisClient } from '../../../infra/redis/index.js';
import type { UserRole } from '../../users/index.js';
import { defineScript, type RedisScript } from '../../../infra/redis/index.js';
import {
  REFRESH_REPEAT_WINDOW_MS,
  SessionStore,
  sessionStoreUnavailable,
  type RotateResult,
  type SessionRecord,
  type SessionState,
  type SessionStoreOptions,
  type SessionSummary,
} from './session-store.js';

// Keys (the client adds REDIS_KEY_PREFIX):
//   sess:{<sid>}        hash: uid role dev ca ls sk rt prt pra (rt = SHA-256 of the current
//                       refresh token; prt = the one it replaced, pra = when, in Redis ms)
//   sess:{<sid>}:spent  set of spent refresh-token hashes (reuse detection)
//   sess:{<sid>}:rev    tombstone of a revoked session (40102 rather than 40100)
//   usess:{<uid>}       set of the user's session ids
// The `{<sid>}` hash tag keeps a session's three keys in one Redis Cluster
// slot, so the scripts below run on a cluster. The user's index is in
// another slot: it is never in a script with them, only written next to
// them (and a stale id in it is dropped by list()).
const session = (sid: string) => `sess:{${sid}}`;
const spent = (sid: string) => `sess:{${sid}}:spent`;
const tombstone = (sid: string) => `sess:{${sid}}:rev`;
const userSessions = (uid: number) => `usess:{${uid}}`;

// The clock is Redis's own (TIME), so every replica measures the
// repeat window (REFRESH_REPEAT_WINDOW_MS) against one clock.
const ROTATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('EXISTS', KEYS[3]) == 1 then return {'revoked'} end
  return {'unknown'}
end
local fields = redis.call('HMGET', KEYS[1], 'rt', 'uid', 'role', 'prt', 'pra')
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if fields[1] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'rt', ARGV[2], 'prt', ARGV[1], 'pra', string.format('%.0f', now))
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  return {'rotated', fields[2], fields[3]}
end
if fields[4] == ARGV[1] and now - tonumber(fields[5]) < tonumber(ARGV[4]) then
  if fields[1] == ARGV[2] then return {'rotated', fields[2], fields[3]} end
  return {'concurrent'}
end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('SET', KEYS[3], '1', 'EX', ARGV[3])
  return {'reused', fields[2]}
end
return {'unknown'}`;

// 1 live (and seen now), 0 revoked (its tombstone is there), -1 gone (expired,
// or Redis lost its data): the client is told which.
const TOUCH = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'ls', ARGV[1])
  return 1
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
return -1`;

const TOUCH_STATES: Record<number, SessionState> = { 1: 'live', 0: 'revoked', [-1]: 'gone' };

const REVOKE = `
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SET', KEYS[3], '1', 'EX', ARGV[1])
return 1`;

const LISTED_FIELDS = ['uid', 'role', 'dev', 'ca', 'ls'] as const;

/**
 * A Redis failure is a dependency outage (503), never an unexpected 500. The
 * request's spent budget stays what it is (it says nothing about Redis).
 */
function unavailable(err?: unknown): never {
  if (err instanceof DeadlineExceededError) throw err;
  throw sessionStoreUnavailable();
}

/** Thrown when no replica confirmed a session write in time (see replicaAckMs). */
class NotReplicatedError extends Error {
  override name = 'NotReplicatedError';
}

export interface RedisSessionStoreOptions extends SessionStoreOptions {
  /**
   * Behind Sentinel: after each session write, WAIT until one replica has it,
   * at most this long, and fail the request (503) when none did. A session,
   * rotation or logout answered 2xx is then on a replica too, so a failover
   * that promotes it loses none of them. Unset: no wait (one server, or
   * Redis Cluster, whose failover gives no such promise).
   */
  replicaAckMs?: number;
}

export class RedisSessionStore extends SessionStore {
  private readonly rotateScript: RedisScript<string[]>;
  private readonly touchScript: RedisScript<number>;
  private readonly revokeScript: RedisScript<number>;
  private readonly repeatWindowMs: number;
  private readonly replicaAckMs: number | undefined;

  constructor(
    private readonly redis: RedisClient,
    options: RedisSessionStoreOptions = {},
    /** Tells liveness, which has a fallback (sessions seen live lately), when Redis is stalled. */
    private readonly gate = new RedisGate(redis),
  ) {
    super();
    this.repeatWindowMs = options.refreshRepeatWindowMs ?? REFRESH_REPEAT_WINDOW_MS;
    this.replicaAckMs = options.replicaAckMs;
    this.rotateScript = defineScript(redis, 'authRotateRefresh', ROTATE, 3);
    this.touchScript = defineScript(redis, 'authTouchSessionState', TOUCH, 2);
    this.revokeScript = defineScript(redis, 'authRevokeSession', REVOKE, 3);
  }

  create(s: SessionRecord, refreshHash: string, ttlSec: number): Promise<void> {
    return this.createRaw(s, refreshHash, ttlSec).catch(unavailable);
  }

  rotate(sid: string, presented: string, next: string, ttlSec: number): Promise<RotateResult> {
    return this.rotateRaw(sid, presented, next, ttlSec).catch(unavailable);
  }

  override get isStalled(): boolean {
    return !this.gate.isOpen;
  }

  touch(sid: string, now: number): Promise<SessionState> {
    return this.touchRaw(sid, now).catch((err: unknown) => {
      this.gate.failed(err);
      return unavailable(err);
    });
  }

  revoke(sid: string, userId: number, tombstoneTtlSec: number): Promise<void> {
    return this.revokeRaw(sid, userId, tombstoneTtlSec).catch(unavailable);
  }

  revokeAll(userId: number, tombstoneTtlSec: number): Promise<string[]> {
    return this.revokeAllRaw(userId, tombstoneTtlSec).catch(unavailable);
  }

  list(userId: number): Promise<SessionSummary[]> {
    return this.listRaw(userId).catch(unavailable);
  }

  /** Waits for one replica to have this connection's writes so far (Sentinel mode only). */
  private async replicated(): Promise<void> {
    if (this.replicaAckMs === undefined) return;
    // WAIT counts replicas that acknowledged every write of this connection:
    // the shared client's, which include the one just made.
    const acks = await this.redis.wait(1, this.replicaAckMs);
    if (acks < 1) throw new NotReplicatedError('no replica acknowledged the session write');
  }

  private async createRaw(s: SessionRecord, refreshHash: string, ttlSec: number): Promise<void> {
    // Two transactions, one per slot (the session's and the user index's).
    await Promise.all([
      this.redis
        .multi()
        .hset(session(s.id), {
          uid: s.userId,
          role: s.role,
          dev: s.device ?? '',
          ca: s.createdAt,
          ls: s.lastSeenAt,
          sk: s.sealedSessionKey,
          rt: refreshHash,
        })
        .expire(session(s.id), ttlSec)
        .exec(),
      this.redis
        .multi()
        .sadd(userSessions(s.userId), s.id)
        .expire(userSessions(s.userId), ttlSec)
        .exec(),
    ]);
    await this.replicated();
  }

  private async rotateRaw(
    sid: string,
    presentedHash: string,
    nextHash: string,
    ttlSec: number,
  ): Promise<RotateResult> {
    const [outcome, uid, role] = await this.rotateScript(
      [session(sid), spent(sid), tombstone(sid)],
      [presentedHash, nextHash, ttlSec, this.repeatWindowMs],
    );
    switch (outcome) {
      case 'rotated':
        // Keep the user's index alive as long as its newest session.
        await this.redis.expire(userSessions(Number(uid)), ttlSec, 'GT');
        await this.replicated();
        return { outcome, userId: Number(uid), role: role as UserRole };
      case 'reused':
        await this.redis.srem(userSessions(Number(uid)), sid);
        await this.replicated();
        return { outcome, userId: Number(uid) };
      case 'revoked':
      case 'concurrent':
        return { outcome };
      default:
        return { outcome: 'unknown' };
    }
  }

  private async touchRaw(sid: string, now: number): Promise<SessionState> {
    return TOUCH_STATES[await this.touchScript([session(sid), tombstone(sid)], [now])] ?? 'gone';
  }

  private async revokeRaw(sid: string, userId: number, tombstoneTtlSec: number): Promise<void> {
    await this.revokeScript([session(sid), spent(sid), tombstone(sid)], [tombstoneTtlSec]);
    await this.redis.srem(userSessions(userId), sid);
    await this.replicated();
  }

  private async revokeAllRaw(userId: number, tombstoneTtlSec: number): Promise<string[]> {
    const ids = await this.redis.smembers(userSessions(userId));
    await Promise.all(ids.map((sid) => this.revoke(sid, userId, tombstoneTtlSec)));
    return ids;
  }

  private async listRaw(userId: number): Promise<SessionSummary[]> {
    const ids = await this.redis.smembers(userSessions(userId));
    if (ids.length === 0) return [];
    // One read per session, not a pipeline: on Redis Cluster the sessions
    // are in different slots, which one pipeline cannot span.
    const rows = await Promise.all(
      ids.map((sid) => this.redis.hmget(session(sid), ...LISTED_FIELDS).catch(() => [])),
    );
    const live: SessionSummary[] = [];
    const gone: string[] = [];
    rows.forEach((values, i) => {
      const [uid, role, dev, ca, ls] = values as (string | null)[];
      if (uid === null || uid === undefined) {
        gone.push(ids[i]);
        return;
      }
      live.push({
        id: ids[i],
        userId: Number(uid),
        role: role as UserRole,
        device: dev ? dev : null,
        createdAt: Number(ca),
        lastSeenAt: Number(ls),
      });
    });
    // Sessions that expired on their own leave their id behind in the index.
    if (gone.length > 0) await this.redis.srem(userSessions(userId), ...gone);
    return live;
  }
}
