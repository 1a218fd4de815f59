--[[
  Leases one name now unless another worker holds it; the name need not be waiting.

  Input:
    KEYS[1] pending   (zset)
    KEYS[2] leased    (zset)
    KEYS[3] leases    (hash)
    KEYS[4] attempts  (hash)
    ARGV[1] name
    ARGV[2] now (ms)
    ARGV[3] lease duration (ms)
    ARGV[4] lease token

  Output:
    deliveries so far (this one included), or false when the name is leased elsewhere
]]
local now = tonumber(ARGV[2])
local deadline = redis.call('ZSCORE', KEYS[2], ARGV[1])
if deadline and tonumber(deadline) > now then
  return false
end

redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
return redis.call('HINCRBY', KEYS[4], ARGV[1], 1)
