--[[
  Reads a name's registrations and the version they are at, in one step: a registration
  decided on them is written only at that version (putRegistrations-3.lua).

  Input:
    KEYS[1] registrations of the name (hash: keyId -> registration JSON)
    KEYS[2] version of the name's registrations (counter; none is version 0)

  Output:
    { version, { registration JSON, ... } }
]]
return { tonumber(redis.call('GET', KEYS[2])) or 0, redis.call('HVALS', KEYS[1]) }
