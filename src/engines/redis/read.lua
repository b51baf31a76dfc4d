-- Reads a channel's position and the publications after a position (HistoryStore.read).
-- KEYS: meta, stream. ARGV: [1] epoch if new, [2] since epoch ('' for none), [3] since offset,
-- [4] limit, [5] history ttl ms, [6] meta ttl ms.
-- Returns {epoch, offset, then offset, time, data for each publication, oldest first}.
local now = now_ms()
local epoch = ensure_epoch(KEYS[1], KEYS[2], ARGV[1], ARGV[6])
local offset = tonumber(redis.call('HGET', KEYS[1], 'o'))
trim_age(KEYS[2], now - tonumber(ARGV[5]))
local out = {epoch, string.format('%d', offset)}
local since = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
if ARGV[2] == epoch and since < offset and limit > 0 then
  local entries = redis.call('XRANGE', KEYS[2], string.format('%d-0', since + 1), '+', 'COUNT', limit)
  for i = 1, #entries do
    local e = entries[i]
    out[#out + 1] = string.match(e[1], '^(%d+)')
    out[#out + 1] = e[2][2]
    out[#out + 1] = e[2][4]
  end
end
return out
