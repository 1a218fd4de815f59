--[[
  Reads what the signer builds a name's documents from, in one step: the version of the
  name's registrations, the registrations, and the sources of the stored documents.

  Input:
    KEYS[1] registrations of the name (hash: keyId -> registration JSON)
    KEYS[2] sources of the name's documents (hash: slot -> "<notAfter> <source>")
    KEYS[3] version of the name's registrations (counter; none is version 0)

  Output:
    { version, { registration JSON, ... }, { slot, source record, ... } }
]]
return { tonumber(redis.call('GET', KEYS[3])) or 0, redis.call('HVALS', KEYS[1]), redis.call('HGETALL', KEYS[2]) }
