--[[
  Counts names waiting or leased, each once.

  Input:
    KEYS[1] pending (zset)
    KEYS[2] leased  (zset)

  Output:
    the count
]]
local count = redis.call('ZCARD', KEYS[1])
for _, name in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if not redis.call('ZSCORE', KEYS[1], name) then
    count = count + 1
  end
end

return count
