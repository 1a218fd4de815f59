--[[
  Writes registrations of one name on a cluster, where the queue lives in another slot and
  is written apart (see putRegistrations in redis.ts). A stored registration that is
  revoked is never overwritten: a revocation is final (as in putRegistrations-2.lua).

  Input:
    KEYS[1] registrations of the name (hash: keyId -> registration JSON)
    ARGV[1..] keyId, registration JSON pairs

  Output:
    the keyIds not written because their stored registration is revoked
]]
local revoked = {}
for i = 1, #ARGV, 2 do
  local stored = redis.call('HGET', KEYS[1], ARGV[i])
  if stored and cjson.decode(stored).revokedAt ~= nil then
    table.insert(revoked, ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end

return revoked
