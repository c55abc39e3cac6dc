import { USER_ROLES, type UserRole } from '../../../common/auth/index.js';
import { defineScript, type RedisClient, type RedisScript } from '../../../infra/redis/index.js';
import { sessionStoreUnavailable } from '../sessions/index.js';
import { ConsoleStore, type ConsoleGrant, type TicketRead } from './console-store.js';

// Keys (the client adds REDIS_KEY_PREFIX), one per script, so they run on a cluster:
//   cons:t:{<ticket>}   hash: b (SHA-256 of the browser's secret), then u s r g once approved
//   cons:s:{<sha256>}   hash: u s r g of a console session, keyed by the SHA-256 of its cookie
// (u user id, s staff session id, r role, g when the role was granted in ms or '' for none)
const ticketKey = (ticket: string) => `cons:t:{${ticket}}`;
const sessionKey = (idHash: string) => `cons:s:{${idHash}}`;

// HSET keeps the ticket's TTL: an approval does not lengthen it.
const APPROVE = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'u') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'u', ARGV[1], 's', ARGV[2], 'r', ARGV[3], 'g', ARGV[4])
return 1`;

// Another browser's read (wrong secret) learns nothing and spends nothing.
const READ = `
local f = redis.call('HMGET', KEYS[1], 'b', 'u', 's', 'r', 'g')
if not f[1] or f[1] ~= ARGV[1] then return {'expired'} end
if not f[2] then return {'waiting'} end
redis.call('DEL', KEYS[1])
return {'approved', f[2], f[3], f[4], f[5]}`;

function grantOf(
  u: string | null,
  s: string | null,
  r: string | null,
  g: string | null,
): ConsoleGrant | undefined {
  if (!u || !s || !r || g === null || !(USER_ROLES as readonly string[]).includes(r)) {
    return undefined;
  }
  return { userId: Number(u), sessionId: s, role: r as UserRole, grantedAt: g ? Number(g) : null };
}

const grantedAtArg = (grant: ConsoleGrant) =>
  grant.grantedAt === null ? '' : String(grant.grantedAt);

/** A Redis failure is a dependency outage (503), never an unexpected 500. */
function unavailable(): never {
  throw sessionStoreUnavailable();
}

export class RedisConsoleStore extends ConsoleStore {
  private readonly approveScript: RedisScript<number>;
  private readonly readScript: RedisScript<(string | null)[]>;

  constructor(private readonly redis: RedisClient) {
    super();
    this.approveScript = defineScript(redis, 'consoleApproveTicket', APPROVE, 1);
    this.readScript = defineScript(redis, 'consoleReadTicket', READ, 1);
  }

  async createTicket(ticket: string, binderHash: string, ttlMs: number): Promise<void> {
    await this.redis
      .multi()
      .hset(ticketKey(ticket), 'b', binderHash)
      .pexpire(ticketKey(ticket), ttlMs)
      .exec()
      .catch(unavailable);
  }

  async approveTicket(ticket: string, grant: ConsoleGrant): Promise<boolean> {
    const done = await this.approveScript(
      [ticketKey(ticket)],
      [grant.userId, grant.sessionId, grant.role, grantedAtArg(grant)],
    ).catch(unavailable);
    return done === 1;
  }

  async readTicket(ticket: string, binderHash: string): Promise<TicketRead> {
    const [status, u, s, r, g] = await this.readScript([ticketKey(ticket)], [binderHash]).catch(
      unavailable,
    );
    if (status === 'waiting') return { status: 'waiting' };
    const grant = status === 'approved' ? grantOf(u, s, r, g) : undefined;
    return grant ? { status: 'approved', grant } : { status: 'expired' };
  }

  async createSession(idHash: string, grant: ConsoleGrant, ttlSec: number): Promise<void> {
    const key = sessionKey(idHash);
    await this.redis
      .multi()
      .hset(key, 'u', grant.userId, 's', grant.sessionId, 'r', grant.role, 'g', grantedAtArg(grant))
      .expire(key, ttlSec)
      .exec()
      .catch(unavailable);
  }

  async session(idHash: string): Promise<ConsoleGrant | undefined> {
    const [u, s, r, g] = await this.redis
      .hmget(sessionKey(idHash), 'u', 's', 'r', 'g')
      .catch(unavailable);
    return grantOf(u, s, r, g);
  }

  async endSession(idHash: string): Promise<void> {
    await this.redis.del(sessionKey(idHash)).catch(unavailable);
  }
}
