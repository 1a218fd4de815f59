--[[
  Makes the given slots the complete set of documents of one name (one call instead of
  MULTI/DEL/HSET/EXEC: the updater does this once per name signed).

  Input:
    KEYS[1] documents of the name (hash: slot -> encoded document)
    ARGV    slot, document, slot, document, ... (none: remove every document)

  Output:
    the number of documents stored
]]
redis.call('DEL', KEYS[1])
if #ARGV > 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
end

return #ARGV / 2
