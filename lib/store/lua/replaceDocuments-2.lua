--[[
  Makes the given slots the complete set of documents of one name (one call instead of
  MULTI/DEL/HSET/EXEC) and forgets every recorded source of the name: documents written
  this way are re-signed, never reused, by the next signing.

  Input:
    KEYS[1] documents of the name (hash: slot -> encoded document)
    KEYS[2] sources of the name's documents (hash: slot -> "<notAfter> <source>")
    ARGV    slot, document, slot, document, ... (none: remove every document)

  Output:
    the number of documents stored
]]
redis.call('DEL', KEYS[1], KEYS[2])
if #ARGV > 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
end

return #ARGV / 2
