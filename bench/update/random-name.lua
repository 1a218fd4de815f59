-- wrk script (bench/update): each request looks up a random name u<i>@example.test,
-- i < NAMES, so the store's size and not one hot key is what a lookup meets.
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local names = tonumber(os.getenv("NAMES") or "10000")

local function base64url(data)
    local out = {}
    for i = 1, #data, 3 do
        local a, b, c = data:byte(i, i + 2)
        local n = a * 65536 + (b or 0) * 256 + (c or 0)
        local chars = (c and 4) or (b and 3) or 2
        for j = 1, chars do
            local shift = 18 - 6 * (j - 1)
            local index = math.floor(n / 2 ^ shift) % 64
            out[#out + 1] = alphabet:sub(index + 1, index + 1)
        end
    end
    return table.concat(out)
end

function setup(thread)
    thread:set("seed", math.random(1, 1000000))
end

function init()
    math.randomseed(os.time() + (seed or 0))
end

request = function()
    local name = "u" .. math.random(0, names - 1) .. "@example.test"
    return wrk.format("GET", "/ikqs/v1/n/" .. base64url(name))
end
-- wrk itself reports "Non-2xx or 3xx responses" when a name is not served.
