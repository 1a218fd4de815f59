--[[
  Queues one name and writes its registrations, in one step. The name is queued first: if
  a write then fails (only a key of the wrong type can make it), what is left is a queued
  name with nothing new to sign, never a registration that is not queued.

  Input:
    KEYS[1] registrations of the name (hash: keyId -> registration JSON)
    KEYS[2] queue of pending names (sorted set: name scored by due time)
    ARGV[1] now (ms), the due time
    ARGV[2] the name
    ARGV[3..] keyId, registration JSON pairs

  Output:
    the number of registrations written
]]
-- LT: an earlier due time already queued wins; a new name is added.
redis.call('ZADD', KEYS[2], 'LT', ARGV[1], ARGV[2])

local written = 0
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  written = written + 1
end

return written
