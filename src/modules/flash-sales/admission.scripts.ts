/**
 * The admission gate for the buys of one event-loop turn in one sale (KEYS:
 * meta, stock, buyers, tickets, stream; ARGV: user id, quantity, ticket,
 * idempotency key, repeated per buy). One script, so the window, the
 * per-user limit and the stock are checked and taken atomically, for each
 * buy in ARGV order exactly as if each had been its own call (a ticket
 * repeated within the batch is admitted once, then known), in this order of
 * precedence (docs/http-api.md): a ticket already admitted answers as
 * admitted again (same idempotency key), then not live, limit, sold out. The
 * meta hash, the clock and the stock are read once per batch: that, and one
 * round trip instead of one per buy, is what batching saves. Returns, per
 * buy, the units left (≥ 0) when admitted now, or a negative code.
 */
export const ADMIT_LUA = `
local m = redis.call('HMGET', KEYS[1], 's', 'e', 'l')
local live = false
local limit = 0
if m[1] then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  live = now >= tonumber(m[1]) and now < tonumber(m[2])
  limit = tonumber(m[3])
end
local left = tonumber(redis.call('GET', KEYS[2]) or '0')
local taken = 0
local out = {}
for i = 1, #ARGV, 4 do
  local r
  if redis.call('HEXISTS', KEYS[4], ARGV[i + 2]) == 1 then r = -4
  elseif not m[1] then r = -9
  elseif not live then r = -3
  else
    local q = tonumber(ARGV[i + 1])
    local bought = tonumber(redis.call('HGET', KEYS[3], ARGV[i]) or '0')
    if bought + q > limit then r = -2
    elseif left < q then r = -1
    else
      left = left - q
      taken = taken + q
      redis.call('HINCRBY', KEYS[3], ARGV[i], q)
      redis.call('HSET', KEYS[4], ARGV[i + 2], ARGV[i] .. ':' .. ARGV[i + 1])
      redis.call('XADD', KEYS[5], '*', 't', ARGV[i + 2], 'u', ARGV[i], 'q', ARGV[i + 1], 'k', ARGV[i + 3])
      r = left
    end
  end
  out[#out + 1] = r
end
if taken > 0 then redis.call('DECRBY', KEYS[2], taken) end
return out`;

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

/**
 * Takes units out of a bucket for another one whose buyers found it empty
 * (KEYS: stock, moved; ARGV: move id, target bucket, quantity wanted): half
 * of what is left when that is at least twice the quantity (so a bucket is
 * refilled rarely), else all of it. The move is logged in `moved`, in the
 * same script, until it has landed (LAND_LUA): a process killed between the
 * two leaves the units in that log, where the settlement sweep finds and
 * lands them, never lost and never counted twice. Returns the units taken.
 */
export const MOVE_OUT_LUA = `
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
if left <= 0 then return 0 end
local k = left
if left >= 2 * tonumber(ARGV[3]) then k = math.floor(left / 2) end
redis.call('DECRBY', KEYS[1], k)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ':' .. k)
return k`;

/**
 * Lands a move in its target bucket, once (KEYS: stock, received; ARGV: move
 * id, units). Returns 1 when the units were added now.
 */
export const LAND_LUA = `
if redis.call('HSETNX', KEYS[2], ARGV[1], 1) == 0 then return 0 end
redis.call('INCRBY', KEYS[1], ARGV[2])
return 1`;

/**
 * One bucket's units, read atomically with its moves (KEYS: stock, moved,
 * received): {units left, units moved out and not landed, moves landed so far}.
 */
export const CENSUS_LUA = `
local out = 0
local v = redis.call('HVALS', KEYS[2])
for i = 1, #v do
  out = out + tonumber(string.sub(v[i], string.find(v[i], ':', 1, true) + 1))
end
return {tonumber(redis.call('GET', KEYS[1]) or '0'), out, redis.call('HLEN', KEYS[3])}`;
