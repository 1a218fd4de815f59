--[[
  Makes one name's documents the given new ones plus the kept ones, in one step: writes
  the new documents with their sources, leaves the kept slots as they are (the signer
  re-signs only what changed) and removes every other document and source of the name.

  Only while the name's registrations are at the version the signer read them at: a signer
  that read them before a change that landed since (it stalled past its lease, or signed
  beside the lease holder) would publish what the change undid. The change queued the name;
  its own signing publishes it.

  Input:
    KEYS[1] documents of the name (hash: slot -> encoded document)
    KEYS[2] sources of the name's documents (hash: slot -> "<notAfter> <source>")
    KEYS[3] version of the name's registrations (counter; none is version 0)
    ARGV[1] the version the documents were built from
    ARGV[2] n, the number of kept slots, followed by those n slots,
            then slot, document, source record triples

  Output:
    the number of documents written, or -1 when the registrations changed since (nothing written)
]]
if (tonumber(redis.call('GET', KEYS[3])) or 0) ~= tonumber(ARGV[1]) then
  return -1
end

local wanted = {}
local kept = tonumber(ARGV[2])
for i = 3, kept + 2 do
  wanted[ARGV[i]] = true
end

for i = kept + 3, #ARGV, 3 do
  wanted[ARGV[i]] = true
end

for _, key in ipairs({ KEYS[1], KEYS[2] }) do
  for _, slot in ipairs(redis.call('HKEYS', key)) do
    if not wanted[slot] then
      redis.call('HDEL', key, slot)
    end
  end
end

local written = 0
for i = kept + 3, #ARGV, 3 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
  written = written + 1
end

return written
