--[[
  Gives a job back to be retried at ARGV[3], if the caller still holds its lease.
  The attempts count is kept for the next delivery.

  Input:
    KEYS[1] pending   (zset)
    KEYS[2] leased    (zset)
    KEYS[3] leases    (hash)
    ARGV[1] name
    ARGV[2] lease token
    ARGV[3] retry time (ms)

  Output:
    1 if given back, 0 if the lease was not the caller's
]]
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then
  return 0
end

redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[1], 'LT', ARGV[3], ARGV[1])
return 1
