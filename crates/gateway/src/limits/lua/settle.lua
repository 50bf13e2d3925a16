-- Switchyard limiter: reconcile reservations and release slots (one round
-- trip). Rules mirror WindowState::add/subtract in limits/window.rs.
--
-- KEYS[i]  the Redis key of step i
-- ARGV[1]  the admission's lease id
-- then 4 values per step:
--   op       'a' adjust a window, 'r' release concurrency slots
--   width    bucket width in ms ('a')
--   bucket   the reservation's bucket ('a')
--   amount   signed delta ('a') or number of slots ('r')
-- A positive delta goes into the current bucket; a negative one comes out
-- of the reservation's bucket, never below zero, and only while that bucket
-- still exists. Reply: 1.

local BUCKETS = 60
-- TIME before writes needs effects replication (the default since Redis 5).
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = ARGV[1]

for i = 1, #KEYS do
  local base = 1 + (i - 1) * 4
  local op, key = ARGV[base + 1], KEYS[i]
  local amount = tonumber(ARGV[base + 4])
  if op == 'a' then
    local width = tonumber(ARGV[base + 2])
    local stored = redis.call('HGET', key, 'w')
    if stored == false or tonumber(stored) == width then
      if amount > 0 then
        redis.call('HSET', key, 'w', ARGV[base + 2])
        redis.call('HINCRBY', key, string.format('%d', math.floor(now / width)), ARGV[base + 4])
        redis.call('PEXPIRE', key, string.format('%d', (BUCKETS + 1) * width))
      elseif amount < 0 and stored ~= false then
        local field = ARGV[base + 3]
        local cost = tonumber(redis.call('HGET', key, field))
        if cost ~= nil then
          local left = cost + amount
          if left > 0 then
            redis.call('HSET', key, field, string.format('%d', left))
          else
            redis.call('HDEL', key, field)
          end
        end
      end
    end
  elseif op == 'r' then
    for s = 1, amount do
      redis.call('ZREM', key, lease .. ':' .. s)
    end
  end
end
return 1
