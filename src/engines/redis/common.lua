-- Shared by publish.lua and read.lua (prepended when the scripts are loaded).
-- KEYS[1]: the channel's meta hash (e: epoch, o: newest offset, b: when the epoch was born, Redis
-- time in ms); KEYS[2]: its stream, whose entry ids are `<offset>-0` and whose fields are t
-- (Redis time, ms) and d (data). Only a publication writes them: a channel that has none has
-- neither key (engines/empty.ts).

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Drops publications older than cutoff (ms), the oldest first.
local function trim_age(stream, cutoff)
  while true do
    local entries = redis.call('XRANGE', stream, '-', '+', 'COUNT', 64)
    if #entries == 0 then return end
    for i = 1, #entries do
      local id = entries[i][1]
      local fields = entries[i][2]
      if tonumber(fields[2]) >= cutoff then
        if i > 1 then redis.call('XTRIM', stream, 'MINID', id) end
        return
      end
    end
    if #entries < 64 then
      redis.call('DEL', stream)
      return
    end
    local last = entries[#entries][1]
    local next_offset = tonumber(string.match(last, '^(%d+)')) + 1
    redis.call('XTRIM', stream, 'MINID', string.format('%d-0', next_offset))
  end
end
