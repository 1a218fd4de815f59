--[[
  Removes registrations of one name (a purge past retention) if the name's registrations
  are still at the version the caller read them at, and then advances the version. A
  change since (a re-registration of a purged key id, say) would otherwise be deleted
  unseen. The caller queues the name.

  Input:
    KEYS[1] registrations of the name (hash: keyId -> registration JSON)
    KEYS[2] version of the name's registrations (counter; none is version 0)
    ARGV[1] the version the caller read
    ARGV[2..] keyIds

  Output:
    the number of registrations removed, or -1 when the registrations changed since (none removed)
]]
if (tonumber(redis.call('GET', KEYS[2])) or 0) ~= tonumber(ARGV[1]) then
  return -1
end

local removed = redis.call('HDEL', KEYS[1], unpack(ARGV, 2))
if removed > 0 then
  redis.call('INCR', KEYS[2])
end

return removed
