-- Switchyard spend ledger: charge the actual amount and release a lease.
--
-- KEYS[2i-1], KEYS[2i]  hash and sorted set of cap i (as in reserve.lua)
-- ARGV[1]  lease id
-- ARGV[2]  amount to add to `spent` (nano-units, >= 0)
-- ARGV[3]  key time to live (ms)
-- Reply: 1.

local lease = ARGV[1]
local amount = tonumber(ARGV[2])
for i = 1, #KEYS / 2 do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  local cost = redis.call('HGET', h, 'l:' .. lease)
  if cost then
    local left = tonumber(redis.call('HGET', h, 'reserved') or '0') - tonumber(cost)
    if left < 0 then left = 0 end
    redis.call('HSET', h, 'reserved', string.format('%d', left))
    redis.call('HDEL', h, 'l:' .. lease)
    redis.call('ZREM', z, lease)
  end
  if amount > 0 then
    redis.call('HINCRBY', h, 'spent', ARGV[2])
  end
  redis.call('PEXPIRE', h, ARGV[3])
  redis.call('PEXPIRE', z, ARGV[3])
end
return 1
