--[[
  Removes one registration (a purge) and, if it was there, advances the name's version
  (updateDocuments-3.lua). The caller queues the name.

  Input:
    KEYS[1] registrations of the name (hash: keyId -> registration JSON)
    KEYS[2] version of the name's registrations (counter)
    ARGV[1] keyId

  Output:
    1 if removed, 0 if there was none
]]
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
if removed > 0 then
  redis.call('INCR', KEYS[2])
end

return removed
