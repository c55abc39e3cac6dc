/**
 * The admission gate (KEYS: meta, stock, buyers, tickets, stream; ARGV: user
 * id, quantity, ticket, idempotency key). One script, so the window, the
 * per-user limit and the stock are checked and taken atomically, in this
 * order of precedence (docs/http-api.md): not live, limit, sold out. A ticket already
 * admitted answers as admitted again (same idempotency key). Returns the
 * units left (≥ 0) when admitted now, or a negative code.
 */
export const ADMIT_LUA = `
if redis.call('HEXISTS', KEYS[4], ARGV[3]) == 1 then return -4 end
local m = redis.call('HMGET', KEYS[1], 's', 'e', 'l')
if not m[1] then return -9 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now < tonumber(m[1]) or now >= tonumber(m[2]) then return -3 end
local q = tonumber(ARGV[2])
local bought = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if bought + q > tonumber(m[3]) then return -2 end
local left = tonumber(redis.call('GET', KEYS[2]) or '0')
if left < q then return -1 end
redis.call('DECRBY', KEYS[2], q)
redis.call('HINCRBY', KEYS[3], ARGV[1], q)
redis.call('HSET', KEYS[4], ARGV[3], ARGV[1] .. ':' .. ARGV[2])
redis.call('XADD', KEYS[5], '*', 't', ARGV[3], 'u', ARGV[1], 'q', ARGV[2], 'k', ARGV[4])
return left - q`;

export const ADMIT = {
  ALREADY: -4,
  NOT_LOADED: -9,
  NOT_LIVE: -3,
  LIMIT: -2,
  SOLD_OUT: -1,
} as const;

/**
 * Loads a sale into Redis unless it is there (KEYS: meta, stock, stream;
 * ARGV: starts ms, ends ms, limit, units, group). Never overwrites: a sale
 * loaded once keeps counting in Redis; a reload after Redis lost it starts
 * from the database's remaining units, which the SQL guard also enforces.
 */
export const LOAD_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'e', ARGV[2], 'l', ARGV[3])
redis.call('SET', KEYS[2], ARGV[4])
if redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[3], ARGV[5], '0', 'MKSTREAM')
end
return 1`;

/**
 * Gives a failed ticket's units back to the sale, once (KEYS: stock, buyers,
 * tickets, returned; ARGV: ticket). Returns 1 when they went back now.
 */
export const RETURN_LUA = `
local v = redis.call('HGET', KEYS[3], ARGV[1])
if not v then return 0 end
if redis.call('HSETNX', KEYS[4], ARGV[1], 1) == 0 then return 0 end
local sep = string.find(v, ':', 1, true)
local user = string.sub(v, 1, sep - 1)
local q = tonumber(string.sub(v, sep + 1))
redis.call('INCRBY', KEYS[1], q)
redis.call('HINCRBY', KEYS[2], user, -q)
return 1`;
