-- Switchyard spend ledger: reserve a request's cost on every cap, or none
-- (one round trip; Redis runs a script alone, so it is atomic).
--
-- KEYS[2i-1]  hash of cap i: `spent`, `reserved`, `l:<lease>` = cost
-- KEYS[2i]    sorted set of cap i: lease ids scored by expiry (ms)
-- ARGV[1]     lease id
-- ARGV[2]     lease time to live (ms): a crashed instance's reservation
--             frees itself after this
-- ARGV[3]     key time to live (ms), refreshed on every use
-- then 3 values per cap: limit, base (spent according to the database), cost
-- Reply: {0} when admitted; {i, spent, reserved} when cap i refused.

if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = ARGV[1]
local lease_ttl = tonumber(ARGV[2])
local key_ttl = ARGV[3]
local caps = #KEYS / 2
local reserved_now = {}

for i = 1, caps do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  local reserved = tonumber(redis.call('HGET', h, 'reserved') or '0')
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  for _, id in ipairs(expired) do
    local cost = redis.call('HGET', h, 'l:' .. id)
    if cost then
      reserved = reserved - tonumber(cost)
      redis.call('HDEL', h, 'l:' .. id)
    end
    redis.call('ZREM', z, id)
  end
  if reserved < 0 then reserved = 0 end
  if #expired > 0 then redis.call('HSET', h, 'reserved', string.format('%d', reserved)) end
  local at = 3 + (i - 1) * 3
  local limit, base, cost = tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  local spent = tonumber(redis.call('HGET', h, 'spent') or '0')
  if base > spent then
    spent = base
    redis.call('HSET', h, 'spent', string.format('%d', spent))
  end
  if spent + reserved + cost > limit then
    return {i, spent, reserved}
  end
  reserved_now[i] = reserved
end

for i = 1, caps do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  local cost = tonumber(ARGV[3 + (i - 1) * 3 + 3])
  redis.call('HSET', h, 'reserved', string.format('%d', reserved_now[i] + cost),
    'l:' .. lease, string.format('%d', cost))
  redis.call('ZADD', z, now + lease_ttl, lease)
  redis.call('PEXPIRE', h, key_ttl)
  redis.call('PEXPIRE', z, key_ttl)
end
return {0}
