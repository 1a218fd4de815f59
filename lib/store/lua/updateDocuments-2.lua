--[[
  Makes one name's documents the given new ones plus the kept ones, in one step: writes
  the new documents with their sources, leaves the kept slots as they are (the signer
  re-signs only what changed) and removes every other document and source of the name.

  Input:
    KEYS[1] documents of the name (hash: slot -> encoded document)
    KEYS[2] sources of the name's documents (hash: slot -> "<notAfter> <source>")
    ARGV[1] n, the number of kept slots, followed by those n slots,
            then slot, document, source record triples

  Output:
    the number of documents written
]]
local wanted = {}
local kept = tonumber(ARGV[1])
for i = 2, kept + 1 do
  wanted[ARGV[i]] = true
end

for i = kept + 2, #ARGV, 3 do
  wanted[ARGV[i]] = true
end

for _, key in ipairs(KEYS) do
  for _, slot in ipairs(redis.call('HKEYS', key)) do
    if not wanted[slot] then
      redis.call('HDEL', key, slot)
    end
  end
end

local written = 0
for i = kept + 2, #ARGV, 3 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
  written = written + 1
end

return written
