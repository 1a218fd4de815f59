--[[
  Gives up a job (dead letter) if the caller still holds its lease. A change enqueued
  while it was leased stays in pending.

  Input:
    KEYS[1] leased    (zset)
    KEYS[2] leases    (hash)
    KEYS[3] attempts  (hash)
    KEYS[4] failed    (hash)
    ARGV[1] name
    ARGV[2] lease token
    ARGV[3] dead-letter record (JSON)

  Output:
    1 if given up, 0 if the lease was not the caller's
]]
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then
  return 0
end

redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
return 1
