--[[
  Finishes a job if the caller still holds its lease. A name re-enqueued while it
  was leased stays in pending. A success clears the name's dead letter; the
  name's next due time (its scheduled re-sign) can be queued in the same step.

  Input:
    KEYS[1] leased    (zset)
    KEYS[2] leases    (hash)
    KEYS[3] attempts  (hash)
    KEYS[4] failed    (hash)
    KEYS[5] pending   (zset)
    ARGV[1] name
    ARGV[2] lease token
    ARGV[3] optional: when the name is due again (ms); an earlier due time already queued wins

  Output:
    1 if finished, 0 if the lease was not the caller's; an error, and nothing written, if
    ARGV[3] is not a finite number (ZADD would refuse it after the lease was removed, and
    the name would silently leave the queue)
]]
local nextDue = nil
if ARGV[3] then
  nextDue = tonumber(ARGV[3])
  if nextDue == nil or nextDue ~= nextDue or nextDue == math.huge or nextDue == -math.huge then
    return redis.error_reply('ERR ackJob: the next due time is not a finite number')
  end
end

if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then
  return 0
end

redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if nextDue then
  redis.call('ZADD', KEYS[5], 'LT', nextDue, ARGV[1])
end

return 1
