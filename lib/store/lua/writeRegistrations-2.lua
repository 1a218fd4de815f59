--[[
  Writes registrations of one name on a cluster, where the queue lives in another slot and
  is written apart (see putRegistrations in redis.ts). A stored registration that is
  revoked is never overwritten: a revocation is final (as in putRegistrations-3.lua). A
  write advances the name's version (updateDocuments-3.lua).

  Input:
    KEYS[1] registrations of the name (hash: keyId -> registration JSON)
    KEYS[2] version of the name's registrations (counter)
    ARGV[1] the version the registrations must be at, or '' for any (putRegistrations-3.lua)
    ARGV[2..] keyId, registration JSON pairs

  Output:
    the keyIds not written because their stored registration is revoked, or false (nothing
    written) when the version is not the one given
]]
if ARGV[1] ~= '' and (tonumber(redis.call('GET', KEYS[2])) or 0) ~= tonumber(ARGV[1]) then
  return false
end

local revoked = {}
for i = 2, #ARGV, 2 do
  local stored = redis.call('HGET', KEYS[1], ARGV[i])
  if stored and cjson.decode(stored).revokedAt ~= nil then
    table.insert(revoked, ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end

if #revoked < (#ARGV - 1) / 2 then
  redis.call('INCR', KEYS[2])
end

return revoked
