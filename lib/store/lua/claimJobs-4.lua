--[[
  Leases up to ARGV[2] due names.

  Input:
    KEYS[1] pending   (zset: name -> due time)
    KEYS[2] leased    (zset: name -> lease deadline)
    KEYS[3] leases    (hash: name -> lease token)
    KEYS[4] attempts  (hash: name -> deliveries)
    ARGV[1] now (ms)
    ARGV[2] max names
    ARGV[3] lease duration (ms)
    ARGV[4] token prefix (random, from the caller)

  Output:
    flat array: name, attempts, token, name, attempts, token, ...
]]
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[2])

-- A lease that lapsed means its worker died: the name is due again.
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
for _, name in ipairs(lapsed) do
  redis.call('ZREM', KEYS[2], name)
  redis.call('HDEL', KEYS[3], name)
  redis.call('ZADD', KEYS[1], 'LT', now, name)
end

local out = {}
local taken = 0
local candidates = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, max * 4)
for _, name in ipairs(candidates) do
  if taken >= max then
    break
  end

  -- A name still leased to a live worker waits until that worker is done.
  if not redis.call('ZSCORE', KEYS[2], name) then
    taken = taken + 1
    local token = ARGV[4] .. ':' .. taken
    redis.call('ZREM', KEYS[1], name)
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), name)
    redis.call('HSET', KEYS[3], name, token)
    local attempts = redis.call('HINCRBY', KEYS[4], name, 1)
    table.insert(out, name)
    table.insert(out, attempts)
    table.insert(out, token)
  end
end

return out
