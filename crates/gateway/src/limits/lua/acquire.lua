-- Switchyard limiter: admit every check or none (one round trip).
-- Rules mirror crates/gateway/src/limits/window.rs; keep them in step.
--
-- KEYS[i]  the Redis key of check i
-- ARGV[1]  lease id (concurrency slots are members "<lease>:<n>")
-- then 4 values per check:
--   kind     'w' sliding window (a hash: bucket index -> cost, 'w' -> width)
--            'c' concurrency (a sorted set: member -> expiry ms)
--   limit    largest admitted total
--   span_ms  window length ('w') or lease lifetime ('c')
--   cost     what this request reserves
-- Reply: {1, remaining_1, reset_after_ms_1 (-1 = none), bucket_1, ...}
--     or {0, failing check (1-based), used, retry_after_ms}
-- Time is Redis TIME, so instances with skewed clocks agree.

local BUCKETS = 60
-- TIME before writes needs effects replication (the default since Redis 5).
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = ARGV[1]

local function width_of(span)
  local w = math.ceil(span / BUCKETS)
  if w < 1 then w = 1 end
  return w
end

local function expiry_of(bucket, width)
  return (bucket + BUCKETS + 1) * width
end

-- Live buckets of a window key, oldest first, and their sum; drops expired
-- buckets, and the whole key if it was built for another width.
local function load_window(key, width)
  local flat = redis.call('HGETALL', key)
  local live, used, stale = {}, 0, {}
  for j = 1, #flat, 2 do
    if flat[j] == 'w' and tonumber(flat[j + 1]) ~= width then
      redis.call('DEL', key)
      return live, 0
    end
  end
  for j = 1, #flat, 2 do
    local field = flat[j]
    if field ~= 'w' then
      local bucket, cost = tonumber(field), tonumber(flat[j + 1])
      if expiry_of(bucket, width) > now then
        live[#live + 1] = { bucket, cost }
        used = used + cost
      else
        stale[#stale + 1] = field
      end
    end
  end
  if #stale > 0 then
    redis.call('HDEL', key, unpack(stale))
  end
  table.sort(live, function(a, b) return a[1] < b[1] end)
  return live, used
end

local n = #KEYS
local pending, info = {}, {}

-- Phase 1: decide. Nothing but expired entries is written.
for i = 1, n do
  local base = 1 + (i - 1) * 4
  local kind, key = ARGV[base + 1], KEYS[i]
  local limit, span, cost = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])
  local prior = pending[key] or 0
  if kind == 'w' then
    local width = width_of(span)
    local live, stored = load_window(key, width)
    local used = stored + prior
    info[i] = { width = width, live = live, after = used + cost }
    if used + cost > limit then
      local excess, freed = used + cost - limit, 0
      local retry = (BUCKETS + 1) * width
      for _, entry in ipairs(live) do
        freed = freed + entry[2]
        if freed >= excess then
          retry = expiry_of(entry[1], width) - now
          break
        end
      end
      return { 0, i, used, retry }
    end
  else
    redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', now))
    local used = redis.call('ZCARD', key) + prior
    info[i] = { after = used + cost }
    if used + cost > limit then
      return { 0, i, used, 1000 }
    end
  end
  pending[key] = prior + cost
end

-- Phase 2: record every check.
local reply = { 1 }
for i = 1, n do
  local base = 1 + (i - 1) * 4
  local kind, key = ARGV[base + 1], KEYS[i]
  local limit, span, cost = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])
  local remaining = limit - info[i].after
  if remaining < 0 then remaining = 0 end
  if kind == 'w' then
    local width = info[i].width
    local cur = math.floor(now / width)
    local oldest = info[i].live[1] and info[i].live[1][1] or nil
    if cost > 0 then
      redis.call('HSET', key, 'w', string.format('%d', width))
      redis.call('HINCRBY', key, string.format('%d', cur), ARGV[base + 4])
      redis.call('PEXPIRE', key, string.format('%d', (BUCKETS + 1) * width))
      if oldest == nil then oldest = cur end
    end
    local reset = -1
    if oldest ~= nil then reset = expiry_of(oldest, width) - now end
    reply[#reply + 1] = remaining
    reply[#reply + 1] = reset
    reply[#reply + 1] = cur
  else
    for s = 1, cost do
      redis.call('ZADD', key, string.format('%d', now + span), lease .. ':' .. s)
    end
    if cost > 0 and redis.call('PTTL', key) < span then
      redis.call('PEXPIRE', key, ARGV[base + 3])
    end
    reply[#reply + 1] = remaining
    reply[#reply + 1] = -1
    reply[#reply + 1] = 0
  end
end
return reply
