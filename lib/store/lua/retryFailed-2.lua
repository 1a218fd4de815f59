--[[
  Queues every given-up name again and clears the dead letters.

  Input:
    KEYS[1] pending (zset)
    KEYS[2] failed  (hash)
    ARGV[1] due time (ms)

  Output:
    the number of names queued again
]]
local names = redis.call('HKEYS', KEYS[2])
for _, name in ipairs(names) do
  redis.call('ZADD', KEYS[1], 'LT', ARGV[1], name)
end

redis.call('DEL', KEYS[2])
return #names
