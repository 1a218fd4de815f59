--[[
  Finishes a job if the caller still holds its lease. A name re-enqueued while it
  was leased stays in pending.

  Input:
    KEYS[1] leased    (zset)
    KEYS[2] leases    (hash)
    KEYS[3] attempts  (hash)
    ARGV[1] name
    ARGV[2] lease token

  Output:
    1 if finished, 0 if the lease was not the caller's
]]
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then
  return 0
end

redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
