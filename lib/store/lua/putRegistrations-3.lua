--[[
  Queues one name and writes its registrations, in one step. The name is queued first: if
  a write then fails (only a key of the wrong type can make it), what is left is a queued
  name with nothing new to sign, never a registration that is not queued. On a cluster the
  queue lives in another slot and is written apart (see putRegistrations in redis.ts): the
  caller passes no name, and a key of the name's own slot as KEYS[2], which is not touched.

  A revocation is final: a stored registration that is revoked is never overwritten, so a
  registration read before a revocation and written after it cannot bring the key back.

  A write advances the name's version, so a signer that read the registrations before it
  cannot publish what it read (updateDocuments-3.lua). A write may itself be conditional on
  the version: a registration decided on what was read (the per-name limits) does not land
  over a change made since.

  Input:
    KEYS[1] registrations of the name (hash: keyId -> registration JSON)
    KEYS[2] queue of pending names (sorted set: name scored by due time); on a cluster, KEYS[1]
    KEYS[3] version of the name's registrations (counter)
    ARGV[1] now (ms), the due time
    ARGV[2] the name, or '' not to queue it (a cluster)
    ARGV[3] the version the registrations must be at, or '' for any
    ARGV[4..] keyId, registration JSON pairs

  Output:
    the keyIds not written because their stored registration is revoked, or false (nothing
    written, nothing queued) when the version is not the one given
]]
if ARGV[3] ~= '' and (tonumber(redis.call('GET', KEYS[3])) or 0) ~= tonumber(ARGV[3]) then
  return false
end

-- LT: an earlier due time already queued wins; a new name is added.
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[2], 'LT', ARGV[1], ARGV[2])
end

local revoked = {}
for i = 4, #ARGV, 2 do
  local stored = redis.call('HGET', KEYS[1], ARGV[i])
  if stored and cjson.decode(stored).revokedAt ~= nil then
    table.insert(revoked, ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end

if #revoked < (#ARGV - 3) / 2 then
  redis.call('INCR', KEYS[3])
end

return revoked
