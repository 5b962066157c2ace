//! The Lua scripts of the job queue and the leases. Every script touches only keys that
//! share one Redis Cluster hash tag (one partition, or one lease), so each stays
//! cluster-safe. Times come from `TIME` inside the script: Redis 5+ replicates script
//! effects, so reading the clock before writing is allowed.

/// One non-blocking pass over a partition's streams in priority order.
///
/// KEYS: the retry, high, medium and low streams. ARGV: group, consumer, count, and the
/// share of it that Low, then Medium, may take first (so they never starve).
/// Creates a missing consumer group (at `0`, so nothing already in the stream is skipped;
/// a Redis that lost its data heals here). Returns `{{stream index (1-based), id,
/// {field, value, …}}, …}`, at most `count` in total, earlier streams first.
pub(crate) const READ: &str = r"
local group, consumer = ARGV[1], ARGV[2]
local left = tonumber(ARGV[3])
local reserve = tonumber(ARGV[4] or '0')
local out = {}
local function take(i, n)
  local r = redis.pcall('XREADGROUP', 'GROUP', group, consumer, 'COUNT', n, 'STREAMS', KEYS[i], '>')
  if type(r) == 'table' and r.err then
    if string.find(r.err, 'NOGROUP', 1, true) then
      redis.call('XGROUP', 'CREATE', KEYS[i], group, '0', 'MKSTREAM')
      r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', n, 'STREAMS', KEYS[i], '>')
    else
      error(r.err)
    end
  end
  local got = 0
  if r then
    for _, e in ipairs(r[1][2]) do
      out[#out + 1] = {i, e[1], e[2]}
      got = got + 1
    end
  end
  return got
end
-- A small share for the lowest priorities first, so a flood above never starves them.
for i = #KEYS, 3, -1 do
  if reserve <= 0 or left <= 0 then break end
  local got = take(i, math.min(reserve, left))
  reserve = reserve - got
  left = left - got
end
for i = 1, #KEYS do
  if left <= 0 then break end
  left = left - take(i, left)
end
return out
";

/// Schedules a retry and finishes the stream entry.
///
/// KEYS: the entry's stream, the delayed set, the paused hash. ARGV: group, entry id,
/// delayed member, delay in ms, destination, delivery id. Returns 1, or 0 when the entry
/// was no longer pending (already acked by someone else): then nothing is scheduled.
pub(crate) const DELAY: &str = r"
local acked = redis.pcall('XACK', KEYS[1], ARGV[1], ARGV[2])
if type(acked) == 'table' and acked.err then
  if not string.find(acked.err, 'NOGROUP', 1, true) then return redis.error_reply(acked.err) end
  acked = 1
end
redis.call('XDEL', KEYS[1], ARGV[2])
if acked == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
return 1
";

/// Moves due retries into the retry stream.
///
/// KEYS: the delayed set, the paused hash, the retry stream. ARGV: limit.
/// Members are `delivery_id|attempt|priority|destination`. Returns how many moved.
pub(crate) const PROMOTE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local moved = 0
for _, m in ipairs(due) do
  local d, a, p, dest = string.match(m, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if d then
    redis.call('XADD', KEYS[3], '*', 'd', d, 'dest', dest, 'prio', p, 'a', a)
    if redis.call('HGET', KEYS[2], dest) == d then
      redis.call('HDEL', KEYS[2], dest)
    end
    moved = moved + 1
  end
  redis.call('ZREM', KEYS[1], m)
end
return moved
";

/// KEYS: the lease, its token counter. ARGV: holder, ttl in ms.
/// Returns the new fencing token, or nil when the lease is held.
pub(crate) const LEASE_ACQUIRE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'PX', ARGV[2])
return token
";

/// KEYS: the lease. ARGV: `token:holder`, ttl in ms. Returns 1 when extended.
pub(crate) const LEASE_RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
";

/// KEYS: the lease. ARGV: `token:holder`. Returns 1 when deleted.
pub(crate) const LEASE_RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";
