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
    1 if given back, 0 if the lease was not the caller's; an error, and nothing written, if
    ARGV[3] is not a finite number (as ackJob-5.lua)
]]
local retryAt = tonumber(ARGV[3])
if retryAt == nil or retryAt ~= retryAt or retryAt == math.huge or retryAt == -math.huge then
  return redis.error_reply('ERR failJob: the retry time is not a finite number')
end

if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then
  return 0
end

redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[1], 'LT', retryAt, ARGV[1])
return 1
